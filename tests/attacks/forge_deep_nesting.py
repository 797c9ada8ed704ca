"""A reply nested 10^5 deep: a recursive decoder overflows its stack (RecursionError is not a ValueError)."""
from tests.attacks import with_gradient

KIND = "wire"
HONEST = "gradient_stub"
DESCRIPTION = "a reply line nested 10^5 deep ([[[...]]] inside {\"ok\": ...}) in place of the real reply"

BODY = '''
depth = 100_000
found, rid = _arequest_id()
line = (b'{"id":' + _ajson.dumps(rid).encode() + b',"ok":' + b"[" * depth + b"]" * depth + b"}\\n")
for fd in _areply_fds()[:1]:
    _awrite_all(fd, line)
return 0.0, 0.0
'''


def source(ctx):
    return with_gradient(ctx, BODY)
