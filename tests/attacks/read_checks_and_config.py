"""Look for the hidden checks and grading.yml with every discovery method; gradient_1d is right only if one of
them could be read (a read shows up as points above the honest (0.0, 0.0))."""
from tests.attacks import gated_gradient

KIND = "reading"
HONEST = "gradient_stub"
DESCRIPTION = ("reads assignments/linear_neuron/checks.py, reference/linear_neuron.py or grading.yml found by "
               "any method; gradient_1d is right only if that worked")

HEAD = '''
def _asecrets_readable():
    targets = [("assignments/linear_neuron/checks.py", "def test_"), ("reference/linear_neuron.py", "import"),
               ("grading.yml", "check_timeout"), ("autograder/grader.py", "def grade")]
    for method in ("executable", "cwd", "file", "proc_cwd", "proc_cmdline", "env", "known"):
        for rel, needle in targets:
            where, text = _afind([rel, "source/" + rel], method, needle)
            if text:
                return where
    return None


_aSECRET = _asecrets_readable()
'''


def source(ctx):
    return gated_gradient(ctx, "_aSECRET", head=HEAD)
