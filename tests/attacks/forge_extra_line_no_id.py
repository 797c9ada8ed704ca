"""One extra, well-formed reply line without an id on the worker's reply pipe (fd from the worker's argv)."""
from tests.attacks import with_gradient

KIND = "wire"
HONEST = "gradient_stub"
DESCRIPTION = "an extra well-formed reply line (no id) written on the reply pipe found in argv / /proc/self/fd"


def source(ctx):
    return with_gradient(ctx, '_aforge("none")\nreturn 0.0, 0.0')
