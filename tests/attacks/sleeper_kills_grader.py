"""A detached sleeper that wakes up later and signals the grader it found as its worker's parent in /proc."""
from tests.attacks import with_gradient

KIND = "processes"
HONEST = "gradient_stub"
DESCRIPTION = "a detached sleeper wakes after 1 s and SIGSTOPs/SIGKILLs the grader pid (and its group) from /proc"

DAEMON = r'''
import signal
G = int(sys.argv[2])
time.sleep(1.0)
stop = min(END, time.time() + 12)
while time.time() < stop:
    for sig in (signal.SIGSTOP, signal.SIGTERM, signal.SIGKILL):
        for fn, target in ((os.kill, G), (os.killpg, G)):
            try:
                fn(target, sig)
            except OSError:
                pass
        try:
            os.killpg(os.getpgid(G), sig)
        except OSError:
            pass
    time.sleep(0.3)
'''

HEAD = '''
_aspawn(_aDAEMON + ''' + repr(DAEMON) + ''', _appid())
'''


def source(ctx):
    return with_gradient(ctx, "return 0.0, 0.0", head=HEAD)
