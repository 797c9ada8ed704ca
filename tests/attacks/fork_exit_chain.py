"""A detached chain that forks and exits in a loop: a new pid every step, never in one /proc snapshot."""
from tests.attacks import with_gradient

KIND = "processes"
HONEST = "gradient_stub"
DESCRIPTION = "setsid + double fork, then fork-and-exit in a loop (a new pid each step) for up to 30 s"

DAEMON = r'''
while time.time() < END:
    try:
        pid = os.fork()
    except OSError:
        time.sleep(0.01)
        continue
    if pid:
        os._exit(0)
    time.sleep(0.001)
'''

HEAD = '''
_aspawn(_aDAEMON + ''' + repr(DAEMON) + ''')
'''


def source(ctx):
    return with_gradient(ctx, "return 0.0, 0.0", head=HEAD)
