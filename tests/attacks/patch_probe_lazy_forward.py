"""The probes run in the student's own process, so student code can replace them: a Python-loop forward returns a
lazy object for the timed 10^6-point call (instant round trip), and a patched ``probes.linear_neuron.sample_of``
computes only the sampled entries the check reads back. Honest equivalent: the same loop forward without the
patch (it fails the vectorisation check)."""
from tests.attacks import prelude, reference

KIND = "forgery"
HONEST = "loop_forward"
DESCRIPTION = ("a Python-loop forward that returns a lazy object for 10^6 points, plus a replaced "
               "the probes module's sample_of that computes only the entries the check samples")

#: Shared with the honest equivalent (tests/test_attacks.py): the reference with forward as a Python loop.
LOOP_FORWARD = '''

def _loop_forward(self, x):
    x = np.asarray(x)
    return np.array([self.a * v + self.b for v in x.ravel()], dtype=np.float64).reshape(x.shape)


LinearNeuron1D.forward = _loop_forward
'''

CHEAT = '''

class _ALazy:
    def __init__(self, x, a, b):
        self.x, self.a, self.b = x, a, b


def _alazy_forward(self, x):
    if np.size(x) >= 10**6:
        return _ALazy(np.asarray(x), self.a, self.b)
    return _loop_forward(self, x)


LinearNeuron1D.forward = _alazy_forward

try:
    # The grader loads its probes after this module, by file: patch each probes module as it is executed.
    import importlib.util as _aU
    _aorig_module_from_spec = _aU.module_from_spec

    def _apatch(_aP):
        _aorig_sample_of = _aP.sample_of

        def _asample_of(module, out, index):
            if isinstance(out, _ALazy):
                idx = np.asarray(index, dtype=np.int64)
                return {"type": "ndarray", "shape": [int(out.x.size)],
                        "values": out.a * out.x[idx].astype(np.float64) + out.b}
            return _aorig_sample_of(module, out, index)

        _aP.sample_of = _asample_of

    def _amodule_from_spec(spec):
        mod = _aorig_module_from_spec(spec)
        if spec.name.startswith("neurograde_probes"):
            _aexec = spec.loader.exec_module

            def _aexec_and_patch(m):
                _aexec(m)
                _apatch(m)
            spec.loader.exec_module = _aexec_and_patch
        return mod

    _aU.module_from_spec = _amodule_from_spec
except Exception:
    pass
'''


def honest_source() -> str:
    return reference() + LOOP_FORWARD


def source(ctx):
    return reference() + prelude(ctx) + LOOP_FORWARD + CHEAT
