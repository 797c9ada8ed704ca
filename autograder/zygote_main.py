"""The fork server's untrusted side: a warm process that has imported the heavy libraries once and forks a fresh,
fully isolated worker for each box.

Run by :mod:`autograder.zygote` inside a bubblewrap box (never imported by the grader)::

    python -I autograder/zygote_main.py RUNTIME_DIR CONTROL_FD

The model is Android's zygote and the fork servers of Chromium and nsjail's ``--mode l``: pay the interpreter's and
the libraries' start-up once, then fork. Student code never runs in this process; it runs in a grandchild that got,
before any student byte is read, namespaces of its own nested inside the server's:

- ``C`` (forked here) waits for the grader's go (the grader moves it into the box's control group first), then
  unshares a new user, mount, PID, IPC, UTS and network namespace (no interface but a down loopback: two boxes of
  one server cannot reach each other) and forks
- ``G``, PID 1 of the new PID namespace: it mounts a private /tmp, a private /box/work, the box's own files
  read-only at /box/job (and hides every other job's folder), a /proc of its own; it forks
- ``W``, the worker: rlimits, every capability and the bounding set dropped, no_new_privs, every descriptor but
  its channel closed; then :func:`autograder.worker.serve`.

When G dies (the grader kills C; G has PDEATHSIG), the kernel kills everything in the PID namespace: nothing a
student starts survives its box. The server itself is out of reach: it is in an ancestor PID namespace (no pid of
it can be named), not dumpable, and its control socket is closed in C before anything else happens.

Control protocol (a SOCK_SEQPACKET socket, one JSON object per record): the grader sends ``{"job": n, "dir":
..., "module": ..., "assignment": ..., "env": {...}, "limits": {...}}`` with four descriptors (request read end,
reply write end, output write end, go read end); the server answers ``{"job": n, "pid": <C in the server's PID
namespace>}`` and later ``{"job": n, "exit": <code>}`` (128 + N for a death by signal N, as bwrap reports it).
At start it says ``{"nested": true|false, "why": ..., "pid": ...}`` (a trial box), then imports the libraries it
was given one by one, forking each job as soon as the libraries it ``needs`` are there, and says ``{"ready": true}``
when all are.
"""
import ctypes
import errno
import gc
import json
import os
import resource
import select
import signal
import socket
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != _here]
sys.path.append(sys.argv[1])

_libc = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 32, 4096, 8192, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

#: Where the server's namespace shows the jobs' folders (all of them) and where a box sees its own.
JOBS_MOUNT, JOB_MOUNT, WORK_MOUNT, KEEP_MOUNT = "/box/jobs", "/box/job", "/box/work", "/box/keep"
#: A box's private writable folders (tmpfs: memory, charged to the box's control group).
TMPFS_OPTIONS = b"size=64m,mode=0700"
TMP_OPTIONS = b"size=64m,mode=1777"
#: Exit codes of C and G for failures before any student code ran (distinct from a worker's own codes).
SETUP_FAILED = 121


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target: str, fstype, flags: int, data=None) -> None:
    enc = lambda v: v.encode() if isinstance(v, str) else v  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_privileges(uid: int | None = None) -> None:
    """No capability in any set (the bounding set too, so that nothing can regain one), no_new_privs, and with
    ``uid`` (a root server) that uid and group instead of root."""
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != errno.EINVAL:
            _check(-1, "drop the bounding set")
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        if os.getuid() != uid or os.geteuid() != uid:
            raise OSError("the uid did not change")
    header, data = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def _code(status: int) -> int:
    return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _close_all_but(keep: set[int]) -> None:
    for fd in sorted(int(n) for n in os.listdir("/proc/self/fd")):
        if fd not in keep and fd > 2:
            try:
                os.close(fd)
            except OSError:
                pass


#: A root server (a root grader) runs in bubblewrap's namespaces without a user namespace, with the capabilities
#: to build boxes and switch uids; each box then gets the grader's uid of its own. A non-root server nests a user
#: namespace per box instead (the student's code keeps the grader's uid, as a cold box does for a non-root grader).
ROOTFUL = os.getuid() == 0


def _enter_namespaces() -> None:
    """In C: new mount, PID, IPC and UTS namespaces, owned by a user namespace nested in the server's (the same
    uid, mapped onto itself) unless the server is root."""
    if ROOTFUL:
        _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET), "unshare")
        return
    uid, gid = os.getuid(), os.getgid()
    # The server is not dumpable, and a fork inherits that: its /proc/self files would belong to root.
    _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET),
           "unshare")
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{gid} {gid} 1")


def _make_box(job_dir: str, uid: int | None, keep: list[str]) -> None:
    """In G (PID 1 of the new namespace): the box's file system. ``keep`` are folders of the Python runtime that
    live under /tmp (a kit cloned there, with its .venv): the box's fresh /tmp would hide them, so they are moved
    aside, and back on top of it, read-only."""
    owner = b"" if uid is None else f",uid={uid},gid={uid}".encode()
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount(job_dir, JOB_MOUNT, None, MS_BIND | MS_REC)
    _mount(None, JOB_MOUNT, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    _mount("tmpfs", JOBS_MOUNT, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, b"size=4k,mode=0500")
    kept = [path for path in keep if path.startswith("/tmp/") and os.path.isdir(path)]
    if kept:
        _mount("tmpfs", KEEP_MOUNT, "tmpfs", MS_NOSUID | MS_NODEV, b"size=4k,mode=0700")
        for i, path in enumerate(kept):
            os.mkdir(f"{KEEP_MOUNT}/{i}")
            _mount(path, f"{KEEP_MOUNT}/{i}", None, MS_BIND | MS_REC)
    # /tmp as everywhere (sticky, writable by all: the box's uid is its only user); G, root without
    # CAP_DAC_OVERRIDE under a root server, can then make the runtime's folders in it.
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, TMP_OPTIONS + owner)
    _mount("tmpfs", WORK_MOUNT, "tmpfs", MS_NOSUID | MS_NODEV, TMPFS_OPTIONS + owner)
    for i, path in enumerate(kept):
        os.makedirs(path, mode=0o755, exist_ok=True)
        _mount(f"{KEEP_MOUNT}/{i}", path, None, MS_MOVE)
        _remount_read_only(path)
    # Everything else the box could write is the server's, shared by every box it forks (when the server is not
    # root, its root folder, /etc and /dev belong to the same user as the box): read-only, and a /dev/shm of the
    # box's own.
    if kept:
        _check(_libc.umount2(KEEP_MOUNT.encode(), 0), f"umount {KEEP_MOUNT}")
    _remount_read_only("/")
    _remount_read_only("/dev")
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, b"size=16m,mode=1777" + owner)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


#: statvfs flags a remount must keep (the kernel refuses to drop a flag locked by a more privileged namespace).
_KEPT_FLAGS = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
               (os.ST_NOATIME, 1024), (os.ST_NODIRATIME, 2048), (os.ST_RELATIME, 1 << 21))


def _remount_read_only(path: str) -> None:
    current = os.statvfs(path).f_flag
    flags = MS_BIND | MS_REMOUNT | MS_RDONLY
    for st_flag, ms_flag in _KEPT_FLAGS:
        if current & st_flag:
            flags |= ms_flag
    _mount(None, path, None, flags)


def _set_limit(which: int, value: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def _run_worker(job: dict, req_fd: int, resp_fd: int, out_fd: int) -> None:
    """In W: limits, no privileges, the box's environment, then the worker's loop. Never returns."""
    limits = job["limits"]
    if ROOTFUL and not (type(job.get("uid")) is int and job["uid"] > 0):
        raise OSError("a root server runs student code only under a uid of its own")
    _set_limit(resource.RLIMIT_CORE, 0)
    _set_limit(resource.RLIMIT_AS, limits["memory_bytes"])
    _set_limit(resource.RLIMIT_CPU, limits["cpu_seconds"])
    _set_limit(resource.RLIMIT_FSIZE, limits["file_bytes"])
    _set_limit(resource.RLIMIT_NPROC, limits["processes"])
    drop_privileges(job.get("uid"))
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    _close_all_but({req_fd, resp_fd})
    os.environ.clear()
    os.environ.update(job["env"])
    os.chdir(WORK_MOUNT)
    gc.unfreeze()
    from autograder import worker
    code = 0
    try:
        worker.serve(f"{JOB_MOUNT}/submission/{job['module']}.py", job["module"], job["assignment"],
                     f"{JOB_MOUNT}/probes.py", req_fd, resp_fd)
    except BaseException:
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    os._exit(code)


def _report(fd: int, exc: BaseException, stage: str = "") -> None:
    """A box that could not be built says why on its output (the grader shows its tail); no student code ran."""
    try:
        os.write(fd, f"\n[the grader could not build the box ({stage}): {type(exc).__name__}: {exc}]\n".encode()[:500])
    except OSError:
        pass


def _init(job: dict, fds: list[int]) -> None:
    """G: PID 1 of the box. Builds its file system, forks W, reaps every orphan, exits with W's code."""
    code = SETUP_FAILED
    try:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        _make_box(job["dir"], job.get("uid"), [k for k in job.get("keep", []) if isinstance(k, str)])
        req_fd, resp_fd, out_fd = fds[:3]
        w = os.fork()
        if w == 0:
            try:
                _run_worker(job, req_fd, resp_fd, out_fd)
            except BaseException as exc:
                _report(out_fd, exc, "W")
            finally:
                os._exit(SETUP_FAILED)
        drop_privileges()
        _close_all_but(set())
        while True:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            if pid == w:
                code = _code(status)
                break
    except BaseException as exc:
        _report(fds[2], exc, "G")
    finally:
        os._exit(code)


def _box(job: dict, fds: list[int], control: int) -> None:
    """C: waits for the grader's go, enters the namespaces, forks G and exits with G's code. Never returns."""
    code = SETUP_FAILED
    try:
        os.close(control)
        req_fd, resp_fd, out_fd, go_fd = fds
        _close_all_but({req_fd, resp_fd, out_fd, go_fd})
        go = os.read(go_fd, 1)
        os.close(go_fd)
        if go != b"g":
            os._exit(SETUP_FAILED)
        _enter_namespaces()
        g = os.fork()
        if g == 0:
            _init(job, [req_fd, resp_fd, out_fd])
        # Not through /proc: G mounts the box's own /proc in the mount namespace C shares, where C has no pid.
        for fd in (req_fd, resp_fd, out_fd):
            os.close(fd)
        _, status = os.waitpid(g, 0)
        code = _code(status)
    except BaseException as exc:
        _report(fds[2], exc, "C")
    finally:
        os._exit(code)


def _trial() -> str:
    """Build one empty box and report what failed, or "" when nested namespaces work here."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            _enter_namespaces()
            g = os.fork()
            if g == 0:
                try:
                    _mount(None, "/", None, MS_REC | MS_PRIVATE)
                    for folder in ("/tmp", WORK_MOUNT):
                        _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, TMPFS_OPTIONS)
                    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
                    drop_privileges(65534 if ROOTFUL else None)
                    os._exit(0)
                except BaseException as exc:
                    os.write(w, str(exc).encode()[:300])
                    os._exit(1)
            _, status = os.waitpid(g, 0)
            os._exit(_code(status))
        except BaseException as exc:
            os.write(w, str(exc).encode()[:300])
            os._exit(1)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    why = os.read(r, 400).decode(errors="replace")
    os.close(r)
    return "" if _code(status) == 0 else (why or f"the trial box exited with {_code(status)}")


def main() -> None:
    control = int(sys.argv[2])
    sock = socket.socket(fileno=control)
    # Not dumpable: a process of the same uid cannot ptrace this one or open its /proc/<pid>/mem.
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)

    def say(message: dict) -> None:
        sock.send(json.dumps(message).encode())

    why = _trial()
    say({"nested": not why, "why": why, "pid": os.getpid()})
    if why:
        return
    from autograder import session, worker  # noqa: F401  (imported before any fork)
    # The libraries the graded contract files import (the grader reads that from its own copies of them, never
    # from a student's file), imported one at a time in grading order; between two imports, every job whose
    # libraries are all here is forked at once: the first assignment's box need not wait for torch.
    todo = [name for name in (sys.argv[3].split(",") if len(sys.argv) > 3 else ()) if name]
    done: set[str] = set()
    pending: list[tuple[dict, list[int]]] = []
    jobs: dict[int, int] = {}

    def receive(timeout: float) -> bool:
        """Take one job from the grader (False when the grader is gone)."""
        ready, _, _ = select.select([sock], [], [], timeout)
        if not ready:
            return True
        try:
            data, fds, _, _ = socket.recv_fds(sock, 1 << 16, 8)
        except OSError:
            return False
        if not data:
            return False
        job = json.loads(data)
        if len(fds) != 4:
            for fd in fds:
                os.close(fd)
            say({"job": job.get("job"), "exit": SETUP_FAILED})
        else:
            pending.append((job, fds))
        return True

    def start_runnable() -> None:
        for job, fds in list(pending):
            needs = [n for n in job.get("needs", []) if isinstance(n, str)]
            if not todo or all(n in done for n in needs):
                pending.remove((job, fds))
                sys.stdout.flush()
                sys.stderr.flush()
                gc.collect()
                gc.freeze()  # the boxes share these pages instead of copying them when the collector touches them
                pid = os.fork()
                if pid == 0:
                    _box(job, fds, control)
                for fd in fds:
                    os.close(fd)
                jobs[pid] = job["job"]
                say({"job": job["job"], "pid": pid})

    def reap() -> None:
        while jobs:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in jobs:
                say({"job": jobs.pop(pid), "exit": _code(status)})

    while todo:
        name = todo.pop(0)
        try:
            __import__(name)
        except Exception:  # a library missing here is imported by the worker that needs it, if any
            pass
        done.add(name)
        while True:  # every job already sent, without waiting for more
            before = len(pending)
            if not receive(0):
                return
            if len(pending) == before:
                break
        start_runnable()
    say({"ready": True})
    while True:
        if not receive(0.05):
            return
        start_runnable()
        reap()


if __name__ == "__main__":
    main()
