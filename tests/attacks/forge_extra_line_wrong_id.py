"""An extra reply line with an id that belongs to no request (the next one)."""
from tests.attacks import with_gradient

KIND = "wire"
HONEST = "gradient_stub"
DESCRIPTION = "an extra reply line with a wrong id (the current id + 1), then the real reply"


def source(ctx):
    return with_gradient(ctx, '_aforge("wrong")\n_aforge("none")\nreturn 0.0, 0.0')
