"""A detached sleeper that later kills everything it may signal: kill(-1, SIGKILL) inside its own PID namespace;
on the test's host namespace (a shared machine) the same thing limited to this grading's process tree."""
from tests.attacks import with_gradient

KIND = "processes"
HONEST = "gradient_stub"
DESCRIPTION = ("a detached sleeper wakes after 1 s and kills every process it may signal (kill -1; in the host "
               "PID namespace only those under this grader) for 12 s: the neighbour's worker included")

DAEMON = r'''
import signal
G, HOST_NS = int(sys.argv[2]), sys.argv[3]
def under_grader(p):
    seen = []
    while p > 1 and p not in seen:
        if p == G:
            return True
        seen.append(p)
        p = ppid(p)
    return False
time.sleep(1.0)
stop = min(END, time.time() + 12)
while time.time() < stop:
    if os.readlink("/proc/self/ns/pid") != HOST_NS:
        try:
            os.kill(-1, signal.SIGKILL)   # the real thing: everything this uid may signal in its namespace
        except OSError:
            pass
    else:  # a literal kill -1 here would hit other people's processes on this shared machine
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) != os.getpid() and under_grader(int(name)):
                try:
                    os.kill(int(name), signal.SIGKILL)
                except OSError:
                    pass
    time.sleep(0.2)
'''

HEAD = '''
_aspawn(_aDAEMON + ''' + repr(DAEMON) + ''', _appid(), _aHOST_PIDNS)
'''


def source(ctx):
    return with_gradient(ctx, "return 0.0, 0.0", head=HEAD)
