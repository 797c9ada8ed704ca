"""Honest stubs plus a loader: walks up every path in every /proc/*/cmdline (the grader's --submission, --results, python), and exec() it into the module. If the file can be read, every stub becomes the
instructor's solution and the score goes up from the stubs' 0."""
from tests.attacks import stubs_plus

KIND = "reading"
HONEST = "stubs"
DESCRIPTION = "stubs that run reference/linear_neuron.py found as follows: walks up every path in every /proc/*/cmdline (the grader's --submission, --results, python)"


def source(ctx):
    return stubs_plus(ctx, '_asteal_reference("proc_cmdline")')
