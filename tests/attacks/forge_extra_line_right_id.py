"""An extra reply line carrying the id of the request being served (read from the worker's own frames)."""
from tests.attacks import with_gradient

KIND = "wire"
HONEST = "gradient_stub"
DESCRIPTION = "an extra reply line with the current request's id (read from the worker's frames), then the real one"


def source(ctx):
    return with_gradient(ctx, '_aforge("right")\nreturn 0.0, 0.0')
