"""Not an attack: removes the keys the keyring attack left under sandbox uids 60000-60999 (run as root)."""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True); libc.syscall.restype = ctypes.c_long
for uid in range(60000, 61000):
    pid = os.fork()
    if pid == 0:
        os.setgroups([]); os.setresgid(uid, uid, uid); os.setresuid(uid, uid, uid)
        if b"ngrt-" in open("/proc/keys", "rb").read():
            for ring in (-4, -5):
                libc.syscall(250, 7, ctypes.c_int(ring))  # KEYCTL_CLEAR
            print("cleared", uid, b"ngrt-" in open("/proc/keys", "rb").read())
        os._exit(0)
    os.waitpid(pid, 0)
