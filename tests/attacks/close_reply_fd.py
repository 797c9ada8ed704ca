"""Close the reply pipe (and the request pipe) under the worker."""
from tests.attacks import with_gradient

KIND = "wire"
HONEST = "gradient_stub"
DESCRIPTION = "os.close() on the worker's reply and request pipes during a call"

BODY = '''
for fd in _areply_fds() + _arequest_fds():
    try:
        _aos.close(fd)
    except OSError:
        pass
return 0.0, 0.0
'''


def source(ctx):
    return with_gradient(ctx, BODY)
