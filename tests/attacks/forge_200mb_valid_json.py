"""200 MB of valid JSON (one reply made of ~6.6e7 small lists) in place of a real reply."""
from tests.attacks import with_gradient

KIND = "wire"
HONEST = "gradient_stub"
DESCRIPTION = "a 200 MB valid JSON reply of many small lists, newline-terminated (frame cap, memory)"

BODY = '''
found, rid = _arequest_id()
fds = _areply_fds()[:1]
chunk = b"[0]," * 262_144          # 1 MB
for fd in fds:
    try:
        _awrite_all(fd, b'{"id":' + _ajson.dumps(rid).encode() + b',"ok":[')
        for _ in range(200):
            _awrite_all(fd, chunk)
        _awrite_all(fd, b"[0]]}\\n")
    except OSError:
        pass
return 0.0, 0.0
'''


def source(ctx):
    return with_gradient(ctx, BODY)
