"""Recon of a forked box (root server): uid 609xx, no caps, NoNewPrivs, own cgroup, lo only; writable: /tmp, /box/work, /dev nodes only; unshare -Ur works (new userns). Informational."""
import json, sys
from _harness import box, server_info

SRC = r'''
import os, subprocess, socket
def recon():
    out = {"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups()}
    w = []
    for root, dirs, files in os.walk("/", topdown=True):
        if root.startswith(("/proc", "/sys")):
            dirs[:] = []; continue
        for n in dirs + files:
            p = os.path.join(root, n)
            try:
                if os.access(p, os.W_OK) and not os.path.islink(p):
                    w.append(p)
            except OSError: pass
        if len(w) > 200: break
    out["writable"] = [p for p in w if not p.startswith("/dev/pts/")][:80]
    out["dev"] = {n: oct(os.lstat("/dev/"+n).st_mode)+" %d" % os.lstat("/dev/"+n).st_uid for n in os.listdir("/dev")}
    def t(f):
        try: return f()
        except Exception as e: return repr(e)
    out["mountinfo"] = t(lambda: open("/proc/self/mountinfo").read())
    out["ns"] = t(lambda: {n: os.readlink("/proc/self/ns/"+n) for n in os.listdir("/proc/self/ns")})
    out["netdev"] = t(lambda: open("/proc/net/dev").read())
    out["unix"] = t(lambda: open("/proc/net/unix").read()[:3000])
    out["tcp"] = t(lambda: open("/proc/net/tcp").read()[:2000])
    out["limits"] = t(lambda: open("/proc/self/limits").read())
    out["status"] = t(lambda: [l for l in open("/proc/self/status") if l.split(":")[0] in ("CapEff","CapPrm","CapBnd","CapInh","CapAmb","NoNewPrivs","Seccomp","NSpid","Uid")])
    out["cgroup"] = t(lambda: open("/proc/self/cgroup").read())
    out["env"] = dict(os.environ)
    try:
        r = subprocess.run(["unshare", "-Ur", "id"], capture_output=True, text=True); out["unshare"] = (r.returncode, r.stdout, r.stderr)
    except Exception as e: out["unshare"] = repr(e)
    out["pids"] = t(lambda: {p: open(f"/proc/{p}/cmdline","rb").read()[:80].decode(errors="replace") for p in os.listdir("/proc") if p.isdigit()})
    return out
'''
if __name__ == "__main__":
    w, s = box(SRC)
    try:
        print(json.dumps({"server": server_info(), "box": s.recon()}, indent=1))
    finally:
        w.close()
