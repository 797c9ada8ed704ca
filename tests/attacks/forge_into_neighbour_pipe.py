"""A detached helper of the linear_neuron worker opens the backprop worker's pipes through /proc/<pid>/fd/<n>
(same sandbox uid) and writes forged frames into them while backprop is graded."""
from tests.attacks import with_gradient

KIND = "wire"
HONEST = "gradient_stub"
DESCRIPTION = ("a detached helper opens the neighbour worker's pipes via /proc/<pid>/fd and forges its replies "
               "and requests")

DAEMON = r'''
G, ME = int(sys.argv[2]), int(sys.argv[3])
def chain(p):
    out = []
    while p > 1 and p not in out:
        out.append(p)
        p = ppid(p)
    return out
frame = b'{"id":null,"ok":{"__tuple__":[0.0,0.0]}}\n'
req = b'{"op":"ping","seed":0,"keep":false,"target":null,"args":[],"kwargs":{"__dict__":{}}}\n'
stop = min(END, time.time() + 20)
while time.time() < stop:
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        p = int(name)
        c = chain(p)
        if p == os.getpid() or G not in c or ME in c:
            continue  # only the neighbour's box, never anything outside this grading
        try:
            cmd = open(f"/proc/{p}/cmdline", "rb").read()
            fds = os.listdir(f"/proc/{p}/fd")
        except OSError:
            continue
        if MARKER.encode() in cmd:
            continue
        for fd in fds:
            path = f"/proc/{p}/fd/{fd}"
            try:
                if not os.readlink(path).startswith("pipe:") or fd in ("0", "1", "2"):
                    continue
                w = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                continue
            try:
                os.write(w, frame + req)
            except OSError:
                pass
            os.close(w)
    time.sleep(0.25)
'''

HEAD = '''
_aspawn(_aDAEMON + ''' + repr(DAEMON) + ''', _appid(), _aos.getpid())
'''


def source(ctx):
    return with_gradient(ctx, "return 0.0, 0.0", head=HEAD)
