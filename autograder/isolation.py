"""How student code is isolated on this machine, found out once per grader process.

Anchors: IOI's ``isolate`` (the sandbox behind CMS and Judge0: a box with its own uid, PID/mount/network/IPC
namespaces and a control group, every process of the box killed at the end) and bubblewrap, which drives the same
kernel features from a declarative command line. The worker runs inside ``bwrap`` when it works here:

- a new PID namespace (when its first process dies, the kernel kills every process the student started);
- a new mount namespace holding only a read-only Python runtime, the staged contract file, the worker's runtime
  and a private writable folder: never the kit, reference/, the checks, grading.yml, other submissions or outputs;
- no network, its own IPC and UTS namespaces, all capabilities dropped;
- as root, an unprivileged uid first (one per bulk-grading slot), then bwrap in an unprivileged user namespace;
- a memory + pids control group per box where the host lets us create one (cgroup v1 or v2).

Where bwrap is missing or the kernel refuses user namespaces, grading still works with rlimits, the uid drop (as
root) and a stray sweep; :func:`detect` says which, and results.json and the terminal table repeat it.
"""
from __future__ import annotations

import functools
from pathlib import Path
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Isolation:
    """What protects the grader and other students from the student's code on this machine."""

    namespaces: bool          # bubblewrap: PID, mount, network, IPC and UTS namespaces
    uid_drop: bool            # student code runs as an unprivileged uid (the grader is root)
    cgroup: str | None        # "v1" or "v2" when each box gets a memory + pids control group, else None
    why_not: str = ""         # why namespaces are not used, when they are not

    @property
    def kind(self) -> str:
        """A short machine-readable name: ``namespaces``, ``uid+rlimits`` or ``rlimits``."""
        if self.namespaces:
            return "namespaces"
        return "uid+rlimits" if self.uid_drop else "rlimits"

    def describe(self) -> str:
        """One line for results.json and the terminal table."""
        if self.namespaces:
            parts = ["bubblewrap namespaces (PID, mount, network, IPC)"]
        else:
            parts = [f"no namespaces ({self.why_not})" if self.why_not else "no namespaces"]
        parts.append("unprivileged uid" if self.uid_drop else "same user as the grader")
        parts.append(f"cgroup {self.cgroup} memory + pids" if self.cgroup else "no cgroup")
        parts.append("rlimits")
        return ", ".join(parts)


#: Set to "0" to grade without namespaces even where bubblewrap works (tests of the fallback).
ENV_SWITCH = "NEUROGRADE_NAMESPACES"


@functools.lru_cache(maxsize=None)
def bwrap_path() -> str | None:
    """bwrap's path when it is installed and can create the namespaces we use here, else None."""
    return _probe_bwrap()[0]


@functools.lru_cache(maxsize=None)
def _probe_bwrap() -> tuple[str | None, str]:
    if os.environ.get(ENV_SWITCH, "1") == "0":
        return None, f"turned off by {ENV_SWITCH}=0"
    if not sys.platform.startswith("linux"):
        return None, f"{sys.platform} has no Linux namespaces"
    path = shutil.which("bwrap") or next((p for p in ("/usr/bin/bwrap", "/usr/local/bin/bwrap")
                                          if os.access(p, os.X_OK)), None)
    if path is None:
        return None, "bubblewrap (bwrap) is not installed"
    from autograder.limits import Limits
    ids = Limits().sandbox_ids()
    preexec = None
    if ids is not None:  # probe as the user the worker will run as: that user needs the user namespace
        def preexec() -> None:
            os.setgroups([])
            os.setgid(ids[1])
            os.setuid(ids[0])
    try:
        proc = subprocess.run([path, *namespace_flags(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
                               "true"], capture_output=True, timeout=20, preexec_fn=preexec)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"bwrap could not run ({exc})"
    if proc.returncode != 0:
        return None, f"bwrap cannot create namespaces here ({proc.stderr.decode(errors='replace').strip()[:160]})"
    return path, ""


def namespace_flags() -> list[str]:
    """The namespaces every box gets (bubblewrap 0.4 and newer)."""
    return ["--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]


@functools.lru_cache(maxsize=None)
def detect() -> Isolation:
    """The isolation student code gets on this machine (cached for the grader's life)."""
    from autograder import cgroups
    from autograder.limits import Limits
    path, why = _probe_bwrap()
    return Isolation(namespaces=path is not None, uid_drop=Limits().sandbox_ids() is not None,
                     cgroup=cgroups.available(), why_not=why)


#: System folders a Python runtime needs, mounted read-only (a merged-/usr symlink is recreated as a symlink).
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: The few files of /etc that the dynamic loader and Python's standard library read; nothing else of /etc.
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/nsswitch.conf",
             "/etc/passwd", "/etc/group", "/etc/alternatives")


def runtime_dirs() -> list[str]:
    """The folders of this Python (interpreter, standard library, site-packages) that lie outside /usr: each is
    mounted read-only at its own path, so the interpreter finds its libraries where it expects them. For the
    kit's own .venv that is the .venv folder alone, never the kit around it."""
    import site
    import sysconfig
    found = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)), os.path.dirname(sys.executable)}
    found |= {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    found |= set(site.getsitepackages())
    real = sorted({os.path.realpath(p) for p in found if p and os.path.isdir(p)} | {p for p in found if p and os.path.isdir(p)})
    outside = [p for p in real if not any(p == d or p.startswith(d + "/") for d in SYSTEM_DIRS)]
    # Keep the outermost folders only (a venv's lib/ sits inside the venv).
    return [p for p in outside if not any(p != q and p.startswith(q + "/") for q in outside)]


def bwrap_command(box: "os.PathLike[str] | None", env: dict[str, str], *, chdir: "os.PathLike[str]",
                  binds: "list[tuple[str, ...]] | None" = None, flags: "list[str] | None" = None,
                  open_parents: bool = False) -> list[str]:
    """The bubblewrap command line that runs what follows it in ``box``'s namespaces: the Python runtime
    read-only, ``box/runtime`` and ``box/submission`` read-only and ``box/work`` writable under /box, a private
    /tmp, /proc of its own PID namespace, a minimal /dev, no network, only ``env`` in the environment.
    ``binds`` (bubblewrap options with their arguments) replace the three folders of ``box``, ``flags`` the
    namespace flags."""
    path = bwrap_path()
    if path is None:
        raise RuntimeError("bubblewrap is not usable here")
    cmd = [path, *(namespace_flags() if flags is None else flags)]
    for folder in SYSTEM_DIRS:
        if os.path.islink(folder):
            cmd += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            cmd += ["--ro-bind", folder, folder]
    for item in ETC_FILES:
        cmd += ["--ro-bind-try", item, item]
    # Mounts apply in order: the private /tmp first, so that a runtime living under /tmp (a kit cloned there,
    # with its .venv) is mounted over it rather than hidden by it.
    cmd += ["--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"]
    for folder in runtime_dirs():
        if open_parents:  # a root bubblewrap makes the folders it creates on the way 0700: others could not enter
            for parent in reversed(Path(folder).parents[:-1]):
                cmd += ["--perms", "0755", "--dir", str(parent)]
        cmd += ["--ro-bind", folder, folder]
    if binds is None:
        box = os.fspath(box)
        binds = [("--ro-bind", f"{box}/runtime", "/box/runtime"), ("--ro-bind", f"{box}/submission",
                 "/box/submission"), ("--bind", f"{box}/work", "/box/work")]
    for option in binds:
        cmd += list(option)
    cmd += ["--chdir", os.fspath(chdir), "--clearenv"]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    return [*cmd, "--"]
