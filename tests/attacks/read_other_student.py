"""Stubs that look for a classmate's linear_neuron.py (the test plants one, world-readable, under /tmp as a class
export would be) and run it. If it can be read the score goes up from the stubs' 0."""
from tests.attacks import stubs_plus

KIND = "reading"
HONEST = "stubs"
DESCRIPTION = "stubs that find a classmate's linear_neuron.py under /tmp, /work, /home, /srv and exec() it"

TAIL = '''
def _asteal_classmate():
    import glob
    token = "NEUROGRADE" + "-CLASSMATE-" + "CANARY"
    own = _aos.path.realpath(__file__)
    for pattern in ("/tmp/*/linear_neuron.py", "/tmp/*/*/linear_neuron.py", "/tmp/*/*/*/linear_neuron.py",
                    "/work/*/*/linear_neuron.py", "/home/*/*/linear_neuron.py", "/srv/*/*/linear_neuron.py",
                    "/var/tmp/*/*/linear_neuron.py"):
        for path in glob.glob(pattern):
            if _aos.path.realpath(path) == own:
                continue
            text = _aread(path)
            if text and token in text and _aMARKER not in text:
                exec(compile(text, "<classmate>", "exec"), globals())
                return path
    return None


_asteal_classmate()
'''


def source(ctx):
    return stubs_plus(ctx, TAIL)
