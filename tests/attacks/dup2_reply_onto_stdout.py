"""dup2 stdout over the reply fd: the worker's replies go to the output drain and never arrive."""
from tests.attacks import with_gradient

KIND = "wire"
HONEST = "gradient_stub"
DESCRIPTION = "os.dup2(1, reply_fd): the worker's own replies land in stdout (the check must time out cleanly)"

BODY = '''
for fd in _areply_fds()[:1]:
    _aos.dup2(1, fd)
return 0.0, 0.0
'''


def source(ctx):
    return with_gradient(ctx, BODY)
