"""dup2 the reply pipe onto stdout: every print() becomes a frame on the reply channel."""
from tests.attacks import with_gradient

KIND = "wire"
HONEST = "gradient_stub"
DESCRIPTION = "os.dup2(reply_fd, 1) then print() forged JSON replies (prints become frames)"

BODY = '''
fds = _areply_fds()[:1]
for fd in fds:
    _asys.stdout.flush()
    _aos.dup2(fd, 1)
found, rid = _arequest_id()
print(_ajson.dumps({"id": rid, "ok": {"__tuple__": [0.0, 0.0]}}), flush=True)
print(_ajson.dumps({"ok": {"__tuple__": [0.0, 0.0]}}), flush=True)
return 0.0, 0.0
'''


def source(ctx):
    return with_gradient(ctx, BODY)
