"""The uid agent: a small root process that acts as a sandbox uid on the grader's behalf (see autograder/uidagent.py).

Run as ``python -I -S uidagent_main.py UID_BASE UID_COUNT`` by a root grader, with pipes on stdin and stdout. Each
request is one line, ``kill UID`` (SIGKILL every process of UID) or ``clear UID`` (empty UID's user and
user-session keyrings); the agent forks a child that becomes UID, does it with system calls only, and answers
``ok`` once the child is gone, or ``refused`` for anything else, a uid outside [UID_BASE, UID_BASE + UID_COUNT)
included (never root: kill(-1) as root would end every process of the machine). End of input ends the agent.

Standard library only, and nothing imported beyond what these system calls need: the agent is forked once per
request, so it stays small (a few MB) where the grader is hundreds.
"""
import ctypes
import os
import signal
import sys

#: keyctl(2)'s system call number where we know it; KEYCTL_CLEAR and the special ids of the uid's own keyrings.
SYS_KEYCTL = {"x86_64": 250, "aarch64": 219}.get(os.uname().machine)
KEYCTL_CLEAR, KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING = 7, -4, -5


def _clear_keyrings() -> None:
    if SYS_KEYCTL is None:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for ring in (KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING):
        libc.syscall(SYS_KEYCTL, KEYCTL_CLEAR, ctypes.c_int(ring))


ACTIONS = {"kill": lambda: os.kill(-1, signal.SIGKILL), "clear": _clear_keyrings}


def as_uid(uid: int, action) -> None:
    """Run ``action`` in a forked child that has become ``uid`` (and nothing else), and wait for it."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            if os.getuid() == uid and os.geteuid() == uid and uid > 0:
                action()
        except BaseException:
            pass
        os._exit(0)
    os.waitpid(pid, 0)


def main() -> int:
    base, count = int(sys.argv[1]), int(sys.argv[2])
    if base <= 0 or count <= 0:
        return 2
    for line in sys.stdin.buffer:
        parts = line.split()
        answer = b"refused\n"
        if len(parts) == 2 and parts[0].decode("ascii", "replace") in ACTIONS and parts[1].isdigit():
            uid = int(parts[1])
            if base <= uid < base + count:
                as_uid(uid, ACTIONS[parts[0].decode()])
                answer = b"ok\n"
        sys.stdout.buffer.write(answer)
        sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
