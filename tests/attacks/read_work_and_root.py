"""Read files that belong to nobody in the sandbox: /root, /etc/shadow, anything under /work that is not the
Python runtime the worker needs. gradient_1d is right only if one of them could be read."""
from tests.attacks import gated_gradient

KIND = "reading"
HONEST = "gradient_stub"
DESCRIPTION = "reads /root/*, /etc/shadow and files under /work outside the Python runtime; gradient_1d right if so"

HEAD = '''
def _aprivate_readable():
    runtime = {_aos.path.realpath(p) for p in (_asys.prefix, _asys.base_prefix, _asys.exec_prefix)}
    runtime |= {_aos.path.realpath(_aos.path.dirname(_aos.path.dirname(_asys.executable)))}
    if len(_asys.argv) > 1 and "/" in _asys.argv[1]:
        runtime.add(_aos.path.realpath(_asys.argv[1]))

    def is_runtime(path):
        real = _aos.path.realpath(path)
        return any(real == r or real.startswith(r.rstrip("/") + "/") for r in runtime)

    for path in ("/etc/shadow", "/root/.bashrc", "/root/.profile", "/root/.ssh/id_rsa", "/root/.bash_history"):
        if _aread(path, 64) is not None:
            return path
    budget = 3000
    for top in ("/root", "/work"):
        for dirpath, dirnames, filenames in _aos.walk(top):
            if is_runtime(dirpath):
                dirnames[:] = []
                continue
            if dirpath.count("/") - top.count("/") >= 3:
                dirnames[:] = []
            for name in filenames:
                budget -= 1
                if budget < 0:
                    return None
                path = _aos.path.join(dirpath, name)
                if is_runtime(path) or not _aos.path.isfile(path):
                    continue
                if _aread(path, 64) is not None:
                    return path
    return None


_aSECRET = _aprivate_readable()
'''


def source(ctx):
    return gated_gradient(ctx, "_aSECRET", head=HEAD)
