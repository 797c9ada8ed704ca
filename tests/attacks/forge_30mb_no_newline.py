"""~30 MB of ``[],`` without a newline: the real reply then ends the line, and the grader must not buffer and
decode it all (10^7 empty lists cost ~1.6 GB in a JSON decoder)."""
from tests.attacks import with_gradient

KIND = "wire"
HONEST = "gradient_stub"
DESCRIPTION = "30 MB of '[],' with no newline before the real reply (unbounded buffer + full JSON decode)"

BODY = '''
fds = _areply_fds()[:1]
chunk = b"[]," * 350_000          # ~1 MB
for fd in fds:
    _awrite_all(fd, b"[")
    for _ in range(30):
        _awrite_all(fd, chunk)
    _awrite_all(fd, b"[]]")        # no newline: the worker's own reply completes the line
return 0.0, 0.0
'''


def source(ctx):
    return with_gradient(ctx, BODY)
