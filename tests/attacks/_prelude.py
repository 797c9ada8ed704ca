"""Helpers pasted into every hostile submission (student code: it runs in the worker, never in pytest).

Placeholders ``@@NAME@@`` are filled in by :func:`tests.attacks.render`. Everything is prefixed with ``_a`` so that
it cannot clash with the names the checks look up in the contract file.
"""

PRELUDE = r'''
# ----------------------------------------------------------------------------------------------------------------
# hostile helpers (tests/attacks): everything below is an attack on the grader, not a solution
# ----------------------------------------------------------------------------------------------------------------
import os as _aos
import sys as _asys
import time as _atime
import json as _ajson

_aMARKER = "@@MARKER@@"            # every process this attack starts carries it in its argv and environment
_aHOST_PIDNS = "@@HOST_PIDNS@@"    # the test's own PID namespace: a literal kill(-1) only inside another one
_aPORT = @@PORT@@                  # a TCP listener the test runs on 127.0.0.1


def _acmdline(pid="self"):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def _appid(pid="self"):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rfind(b")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _apids():
    try:
        return sorted(int(p) for p in _aos.listdir("/proc") if p.isdigit())
    except OSError:
        return []


def _afd_target(fd, pid="self"):
    try:
        return _aos.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return ""


def _awritable_pipes():
    """Every pipe this process may write to, stdout/stderr excepted."""
    import fcntl
    out = []
    try:
        fds = sorted(int(n) for n in _aos.listdir("/proc/self/fd"))
    except OSError:
        fds = list(range(3, 256))
    for fd in fds:
        if fd in (0, 1, 2) or not _afd_target(fd).startswith("pipe:"):
            continue
        try:
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        except OSError:
            continue
        if flags & _aos.O_ACCMODE in (_aos.O_WRONLY, _aos.O_RDWR):
            out.append(fd)
    return out


def _areply_fds():
    """The worker's reply channel: the last number of its argv (worker.py ... REQ_FD RESP_FD) when that is a
    writable pipe, then every other writable pipe found in /proc/self/fd."""
    fds = []
    for source in (_asys.argv, _acmdline()):
        nums = [a for a in source[-3:] if a.isdigit()]
        if nums and int(nums[-1]) in _awritable_pipes() and int(nums[-1]) not in fds:
            fds.append(int(nums[-1]))
    for fd in _awritable_pipes():
        if fd not in fds:
            fds.append(fd)
    return fds


def _arequest_fds():
    """Readable pipes (the request channel), stdin excepted."""
    import fcntl
    out = []
    try:
        fds = sorted(int(n) for n in _aos.listdir("/proc/self/fd"))
    except OSError:
        fds = []
    for fd in fds:
        if fd == 0 or not _afd_target(fd).startswith("pipe:"):
            continue
        try:
            if fcntl.fcntl(fd, fcntl.F_GETFL) & _aos.O_ACCMODE == _aos.O_RDONLY:
                out.append(fd)
        except OSError:
            pass
    return out


def _awrite_all(fd, data):
    view = memoryview(data)
    while view:
        n = _aos.write(fd, view)
        view = view[n:]


def _aframe(obj):
    return _ajson.dumps(obj, separators=(",", ":")).encode() + b"\n"


def _arequest_id():
    """(found, id) of the request the worker is serving, read from the worker's own frames."""
    f = _asys._getframe(1)
    while f is not None:
        loc = f.f_locals
        for key in ("rid", "request_id", "req_id"):
            if key in loc and isinstance(loc[key], (int, str, type(None))):
                return True, loc[key]
        for v in list(loc.values()):
            if isinstance(v, dict) and "op" in v:
                return True, v.get("id")
        f = f.f_back
    return False, None


def _aforge(rid_mode="right", value=None, fds=None):
    """Write one well-formed extra reply on the reply channel; rid_mode: right | wrong | none."""
    found, rid = _arequest_id()
    msg = {"ok": value if value is not None else {"__tuple__": [0.0, 0.0]}}
    if rid_mode == "right":
        msg = {"id": rid, **msg}
    elif rid_mode == "wrong":
        msg = {"id": (rid + 1) if isinstance(rid, int) else 987654321, **msg}
    data = _aframe(msg)
    for fd in (fds if fds is not None else _areply_fds()):
        try:
            _awrite_all(fd, data)
        except OSError:
            pass
        break  # one extra frame on the reply channel
    return found


def _aspawn(code, *args, pass_fds=()):
    """Start ``python -c code MARKER args...`` in a new session; the code detaches further itself."""
    import subprocess
    env = {"PATH": _aos.environ.get("PATH", "/usr/bin:/bin"), "NEUROGRADE_ATTACK_MARKER": _aMARKER}
    try:
        return subprocess.Popen([_asys.executable, "-S", "-c", code, _aMARKER, *[str(a) for a in args]],
                                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True, pass_fds=tuple(pass_fds))
    except OSError:
        return None


#: Head of every detached helper: double fork (the Popen child exits at once, its child is orphaned and starts a
#: new session), a self-destruct so that a failed test never leaves a process on a shared machine, and ppid().
_aDAEMON = """
import os, sys, time
if os.fork():
    os._exit(0)
try:
    os.setsid()
except OSError:
    pass
if os.fork():
    os._exit(0)
MARKER = sys.argv[1]
END = time.time() + 30


def ppid(p):
    try:
        s = open(f"/proc/{p}/stat", "rb").read()
        return int(s[s.rfind(b")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return 0
"""


def _aancestry(pid):
    chain = []
    while pid > 1 and pid not in chain:
        chain.append(pid)
        pid = _appid(pid)
    return chain


def _ahonest_gradient(x, y, a, b):
    import numpy as _anp
    x, y = _anp.asarray(x, dtype=float), _anp.asarray(y, dtype=float)
    e = a * x + b - y
    return float(_anp.mean(e * x)), float(_anp.mean(e))


# -- where the kit might be, found as a student would ----------------------------------------------------------
def _awalk_up(path):
    out = []
    if not path or not isinstance(path, str):
        return out
    p = _aos.path.abspath(path)
    while True:
        out.append(p)
        parent = _aos.path.dirname(p)
        if parent == p:
            return out
        p = parent


def _aroots(method):
    roots = []
    if method == "executable":
        for e in {_asys.executable, _aos.path.realpath(_asys.executable), _acmdline()[:1] and _acmdline()[0]}:
            roots += _awalk_up(e)
    elif method == "cwd":
        roots += _awalk_up(_aos.getcwd()) + _awalk_up(_aos.environ.get("PWD", "")) + _awalk_up(_aos.environ.get("HOME", ""))
        roots += _awalk_up(_aos.path.realpath("."))
    elif method == "file":
        roots += _awalk_up(globals().get("__file__", ""))
        for a in list(_asys.argv) + _acmdline():
            if "/" in a:
                roots += _awalk_up(a) + _awalk_up(_aos.path.realpath(a))
        for m in list(_asys.modules.values()):
            roots += _awalk_up(getattr(m, "__file__", None) or "")
    elif method == "proc_cwd":
        for pid in _apids():
            for link in ("cwd", "root", "exe"):
                base = f"/proc/{pid}/{link}"
                roots += [base, base + "/..", base + "/../..", base + "/../../.."]
                try:
                    roots += _awalk_up(_aos.readlink(base))
                except OSError:
                    pass
            try:
                roots += [f"/proc/{pid}/root/work/main", f"/proc/{pid}/root/autograder/source"]
            except OSError:
                pass
    elif method == "proc_cmdline":
        for pid in _apids():
            for a in _acmdline(pid):
                for part in a.replace("=", " ").replace(":", " ").split():
                    if "/" in part:
                        roots += _awalk_up(part)
    elif method == "env":
        values = list(_aos.environ.values())
        for pid in _apids():
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    values += [v.decode("utf-8", "replace") for v in f.read().split(b"\0")]
            except OSError:
                pass
        values += [_asys.prefix, _asys.base_prefix, _asys.exec_prefix, *_asys.path]
        for v in values:
            for part in v.replace("=", ":").split(":"):
                if "/" in part:
                    roots += _awalk_up(part)
    elif method == "known":
        import glob
        roots += ["/work/main", "/autograder/source", "/autograder", "/srv/neurograde", "/opt/neurograde",
                  "/root/neurograde", _aos.path.expanduser("~")]
        for pattern in ("/work/*", "/home/*/*", "/srv/*", "/opt/*", "/*", "/tmp/*", "/tmp/*/*", "/mnt/*",
                        "/workspace/*"):
            roots += glob.glob(pattern)
    seen, out = set(), []
    for r in roots:
        if r and r not in seen:
            seen.add(r)
            out.append(r)
    return out


def _aread(path, limit=4_000_000):
    try:
        with open(path, "rb") as f:
            return f.read(limit).decode("utf-8", "replace")
    except (OSError, ValueError):
        return None


def _afind(rels, method, must_contain):
    for root in _aroots(method):
        for rel in rels:
            text = _aread(_aos.path.join(root, rel))
            if text and must_contain in text:
                return _aos.path.join(root, rel), text
    return None, None


def _asteal_reference(method):
    """Find reference/linear_neuron.py and run it in this module: every stub becomes the instructor's solution."""
    where, text = _afind(["reference/linear_neuron.py", "source/reference/linear_neuron.py", "linear_neuron.py"],
                         method, "def gradient_1d")
    if text and "raise NotImplementedError()\n" not in text.split("def gradient_1d", 1)[1][:1500]:
        exec(compile(text, "<stolen reference>", "exec"), globals())
        return where
    return None
'''
