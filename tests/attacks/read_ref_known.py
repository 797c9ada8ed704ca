"""Honest stubs plus a loader: tries well-known kit locations (/work/*, /autograder/source, /srv, /opt, /tmp/*, /*), and exec() it into the module. If the file can be read, every stub becomes the
instructor's solution and the score goes up from the stubs' 0."""
from tests.attacks import stubs_plus

KIND = "reading"
HONEST = "stubs"
DESCRIPTION = "stubs that run reference/linear_neuron.py found as follows: tries well-known kit locations (/work/*, /autograder/source, /srv, /opt, /tmp/*, /*)"


def source(ctx):
    return stubs_plus(ctx, '_asteal_reference("known")')
