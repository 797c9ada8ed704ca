"""Honest stubs plus a loader: walks up from the cwd, $PWD and $HOME to reference/linear_neuron.py, and exec() it into the module. If the file can be read, every stub becomes the
instructor's solution and the score goes up from the stubs' 0."""
from tests.attacks import stubs_plus

KIND = "reading"
HONEST = "stubs"
DESCRIPTION = "stubs that run reference/linear_neuron.py found as follows: walks up from the cwd, $PWD and $HOME to reference/linear_neuron.py"


def source(ctx):
    return stubs_plus(ctx, '_asteal_reference("cwd")')
