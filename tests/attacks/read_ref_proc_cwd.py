"""Honest stubs plus a loader: tries /proc/*/cwd, /proc/*/root, /proc/*/exe (and their parents) for reference/linear_neuron.py, and exec() it into the module. If the file can be read, every stub becomes the
instructor's solution and the score goes up from the stubs' 0."""
from tests.attacks import stubs_plus

KIND = "reading"
HONEST = "stubs"
DESCRIPTION = "stubs that run reference/linear_neuron.py found as follows: tries /proc/*/cwd, /proc/*/root, /proc/*/exe (and their parents) for reference/linear_neuron.py"


def source(ctx):
    return stubs_plus(ctx, '_asteal_reference("proc_cwd")')
