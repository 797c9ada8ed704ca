"""SUCCEEDED as an ordinary user (non-root server): /dev/shm, /dev, / and /box/keep of the server are writable by boxes and shared: files (and their memory) outlive the box and reach the next one. BLOCKED under a root server (EACCES)."""
import os, sys, time
from _harness import box, server_info

SRC = r'''
import os
def plant(secret, mb):
    out = {"uid": os.getuid()}
    for d in ("/dev/shm", "/dev", "/dev/pts", "/box/keep", "/"):
        try:
            with open(os.path.join(d, "ngrt-marker"), "w") as f:
                f.write(secret)
            out[d] = "written"
        except OSError as e:
            out[d] = repr(e)
    if mb:
        try:
            with open("/dev/shm/ngrt-big", "wb") as f:
                for _ in range(mb):
                    f.write(b"\1" * (1 << 20))
            out["big"] = mb
        except OSError as e:
            out["big"] = repr(e)
    return out
def find():
    out = {"uid": os.getuid()}
    for d in ("/dev/shm", "/dev", "/dev/pts", "/"):
        p = os.path.join(d, "ngrt-marker")
        if os.path.exists(p):
            out[p] = open(p).read()
    try:
        out["big"] = os.path.getsize("/dev/shm/ngrt-big")
    except OSError:
        pass
    return out
'''
def shmem():
    return [l.strip() for l in open("/proc/meminfo") if l.startswith("Shmem:")][0]

if __name__ == "__main__":
    mb = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    print("server", server_info(), "uid", os.getuid(), shmem())
    w1, s1 = box(SRC, "plant")
    print("plant", s1.plant("SECRET-FROM-BOX-1", mb))
    w1.close()
    print("after close", shmem())
    w2, s2 = box(SRC, "find")
    t = time.monotonic()
    print("find", s2.find(), "%.2fs" % (time.monotonic() - t))
    w2.close()
