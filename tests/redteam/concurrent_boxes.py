"""BLOCKED (after commit cda3188): two live boxes cannot reach each other by abstract socket or loopback (a net ns each); userns+mount tricks (umount/rbind/bind /box/jobs) cannot reveal another job (locked mounts, root-owned 0500 tmpfs)."""
import json, sys, time
from _harness import box, server_info

VICTIM = r'''
import socket, threading, os
SECRET = "VICTIM-SUBMISSION-SOURCE: def gradient_1d(...): ..."
def _serve(s):
    while True:
        c, _ = s.accept()
        c.sendall(SECRET.encode()); c.close()
def listen():
    a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); a.bind("\0ngrt-victim"); a.listen(5)
    t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind(("127.0.0.1", 47123)); t.listen(5)
    for s in (a, t):
        threading.Thread(target=_serve, args=(s,), daemon=True).start()
    return open("/proc/self/mountinfo").read().split("/box/job ")[0].rsplit(" ", 2)[-2]
'''
ATTACKER = r'''
import socket, subprocess, os
def attack(victim_job):
    out = {}
    for name, fam, addr in (("abstract", socket.AF_UNIX, "\0ngrt-victim"), ("tcp", socket.AF_INET, ("127.0.0.1", 47123))):
        try:
            s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(2); s.connect(addr); out[name] = s.recv(200).decode(); s.close()
        except OSError as e:
            out[name] = repr(e)
    out["unix_table"] = open("/proc/net/unix").read()[-400:]
    script = f"""
umount /box/jobs 2>&1; ls /box/jobs 2>&1
umount -l /box/jobs 2>&1; ls /box/jobs 2>&1
mkdir -p /tmp/x /tmp/y; mount --rbind /box /tmp/x 2>&1 && (umount -l /tmp/x/jobs 2>&1; ls /tmp/x/jobs 2>&1)
mount --bind /box /tmp/y 2>&1; ls /tmp/y/jobs 2>&1
mount -t proc proc /tmp/y 2>&1; ls /tmp/y 2>&1 | head -3
cat {victim_job}/submission/linear_neuron.py 2>&1 | head -2
"""
    r = subprocess.run(["unshare", "-Urm", "--pid", "--fork", "--mount-proc", "sh", "-c", script], capture_output=True, text=True)
    out["userns"] = (r.returncode, r.stdout[-1500:], r.stderr[-500:])
    r = subprocess.run(["unshare", "-Urm", "sh", "-c", script], capture_output=True, text=True)
    out["userns2"] = (r.returncode, r.stdout[-1500:], r.stderr[-500:])
    return out
'''
if __name__ == "__main__":
    print("server", server_info())
    wa, sa = box(VICTIM, "victim")
    wb, sb = box(ATTACKER, "attacker")
    try:
        src = sa.listen()
        print("victim job dir (host path from mountinfo):", src)
        job = "/box/jobs/" + src.rstrip("/").rsplit("/", 1)[-1]
        res = sb.attack(job)
        for k, v in res.items():
            print(k, "=>", v if not isinstance(v, tuple) else "\n".join(map(str, v)))
    finally:
        wa.close(); wb.close()
