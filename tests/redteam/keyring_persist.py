"""SUCCEEDED (root server): keys added to @u/@us by one box persist in the init user namespace and are read by every later box that gets the same uid (the next box of a grade-server slot does); cold boxes: blocked (a userns each)."""
import json, sys, time
from _harness import box, server_info

SRC = r'''
import ctypes, os
_l = ctypes.CDLL(None, use_errno=True)
_l.syscall.restype = ctypes.c_long
def _add(desc, data, ring):
    r = _l.syscall(248, b"user", desc.encode(), data, len(data), ctypes.c_int(ring))
    return r if r >= 0 else -ctypes.get_errno()
def _search(ring, desc):
    r = _l.syscall(250, 10, ctypes.c_int(ring), b"user", desc.encode(), 0)
    return r if r >= 0 else -ctypes.get_errno()
def _read(kid):
    buf = ctypes.create_string_buffer(4096)
    r = _l.syscall(250, 11, kid, buf, 4096)
    return buf.raw[:r].decode(errors="replace") if r >= 0 else -ctypes.get_errno()
def _id(ring):
    r = _l.syscall(250, 0, ctypes.c_int(ring), 0)
    return r if r >= 0 else -ctypes.get_errno()
RINGS = {"session": -3, "user": -4, "user_session": -5}
def plant(secret):
    return {"uid": os.getuid(), "ids": {n: _id(v) for n, v in RINGS.items()},
            "added": {n: _add("ngrt-" + n, secret.encode(), v) for n, v in RINGS.items()},
            "keys": open("/proc/keys").read() if os.path.exists("/proc/keys") else None}
def find():
    out = {"uid": os.getuid(), "ids": {n: _id(v) for n, v in RINGS.items()}}
    for n, v in RINGS.items():
        for m in RINGS:
            k = _search(v, "ngrt-" + m)
            if k > 0:
                out[f"{n}:{m}"] = _read(k)
    return out
'''
if __name__ == "__main__":
    print("server", server_info())
    w1, s1 = box(SRC, "plant")
    print("plant", s1.plant("SECRET-FROM-BOX-1"))
    w1.close()
    for i in range(3):
        w2, s2 = box(SRC, "find")
        print("find", i, s2.find())
        w2.close()
