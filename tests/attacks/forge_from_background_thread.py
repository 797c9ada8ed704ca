"""A thread started at import writes well-formed replies later, while other checks are being served."""
from tests.attacks import with_gradient

KIND = "wire"
HONEST = "gradient_stub"
DESCRIPTION = "a background thread (started at import) writes a forged reply every 0.3 s during later checks"

HEAD = '''
import threading as _athreading


def _abackground():
    fds = _areply_fds()[:1]
    _atime.sleep(0.5)
    for i in range(40):
        for fd in fds:
            try:
                _awrite_all(fd, _aframe({"id": i, "ok": {"__tuple__": [0.0, 0.0]}}))
            except OSError:
                return
        _atime.sleep(0.3)


_athreading.Thread(target=_abackground, daemon=True).start()
'''


def source(ctx):
    return with_gradient(ctx, "return 0.0, 0.0", head=HEAD)
