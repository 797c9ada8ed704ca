"""Helper (not an attack): namespace ids of two concurrent boxes, after PR_SET_DUMPABLE(1) on the worker itself."""
from _harness import box
SRC = r'''
import os, ctypes, socket
def ns():
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)
    d = {n: os.readlink("/proc/self/ns/"+n) for n in sorted(os.listdir("/proc/self/ns"))}
    d["unix"] = open("/proc/net/unix").read()
    d["route"] = open("/proc/net/route").read()
    d["if_inet6"] = open("/proc/net/if_inet6").read() if os.path.exists("/proc/net/if_inet6") else ""
    return d
def bind():
    global S
    S = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); S.bind("\0ngrt-x"); S.listen(1)
    return open("/proc/net/unix").read()
'''
wa, sa = box(SRC, "a"); wb, sb = box(SRC, "b")
try:
    print(sa.bind()); print(sa.ns()); print(sb.ns())
finally:
    wa.close(); wb.close()
wa, sa = box(SRC, "a"); wb, sb = box(SRC, "b")
try:
    sa.ns(); sb.ns()
    print("servers", id(wa._server), id(wb._server), wa._server._proc.pid, wb._server._proc.pid, wa._server is wb._server)
finally:
    wa.close(); wb.close()
