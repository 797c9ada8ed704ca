"""A reply line that is not UTF-8."""
from tests.attacks import with_gradient

KIND = "wire"
HONEST = "gradient_stub"
DESCRIPTION = "a reply line with invalid UTF-8 bytes in a string, before the real reply"

BODY = '''
found, rid = _arequest_id()
for fd in _areply_fds()[:1]:
    _awrite_all(fd, b'{"id":' + _ajson.dumps(rid).encode() + b',"ok":"\\xff\\xfe\\xc3"}\\n')
return 0.0, 0.0
'''


def source(ctx):
    return with_gradient(ctx, BODY)
