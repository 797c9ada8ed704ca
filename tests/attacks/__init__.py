"""Attacks on the grader (issue 11), one module each; tests/test_attacks.py grades each through the real CLI.

Every module defines:

- ``KIND``: the attack class (``wire``, ``processes``, ``reading``, ``writing``, ``network``, ``resources``,
  ``forgery``);
- ``HONEST``: the honest equivalent it is scored against: ``"gradient_stub"`` (the reference with ``gradient_1d``
  returning ``(0.0, 0.0)``, what every attack's own ``gradient_1d`` returns), ``"stubs"`` (the student template:
  the attacks that try to read the instructor's solution and run it) or ``"loop_forward"`` (the reference with a
  Python-loop ``LinearNeuron1D.forward``: the attack that forges the vectorisation check's sample);
- ``DESCRIPTION``: one line;
- ``source(ctx) -> str``: the text of the attacked contract file (``linear_neuron.py``).

The attacks are student code: they only ever run inside the worker. Processes they start carry ``ctx.marker`` in
their argv and environment (the test finds them through /proc, it does not trust anything the attack writes).
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from tests.attacks._prelude import PRELUDE

KIT_ROOT = Path(__file__).resolve().parents[2]
VICTIM = "linear_neuron"
NEIGHBOUR = "backprop"
#: Built at run time in the attacks, so that the literal text is only in the planted classmate's file.
CANARY_TOKEN = "NEUROGRADE" + "-CLASSMATE-" + "CANARY"


@dataclass(frozen=True)
class Context:
    marker: str          # unique per test: in the argv/environment of every process the attack starts
    host_pidns: str      # readlink /proc/self/ns/pid of the test process
    port: int            # a listener on 127.0.0.1 that must never see a connection


def reference(name: str = VICTIM) -> str:
    return (KIT_ROOT / "reference" / f"{name}.py").read_text()


def stub(name: str = VICTIM) -> str:
    return (KIT_ROOT / "student_template" / f"{name}.py").read_text()


def prelude(ctx: Context) -> str:
    return (PRELUDE.replace("@@MARKER@@", ctx.marker).replace("@@HOST_PIDNS@@", ctx.host_pidns)
            .replace("@@PORT@@", str(ctx.port)))


def with_gradient(ctx: Context, body: str, head: str = "") -> str:
    """The reference, the helpers, optional module-level ``head`` code, then ``gradient_1d`` with ``body``
    (indented by four spaces; it must end by returning)."""
    indented = "".join(f"    {line}\n" if line.strip() else "\n" for line in body.strip("\n").splitlines())
    return (reference() + prelude(ctx) + "\n" + head.strip("\n") + "\n\n\ndef gradient_1d(x, y, a, b):\n"
            + indented)


def gated_gradient(ctx: Context, gate: str, head: str = "") -> str:
    """``gradient_1d`` is right only when ``gate`` (an expression) is true: reading or reaching what the sandbox
    should hide shows up as points above the honest ``(0.0, 0.0)``."""
    return with_gradient(ctx, f"if {gate}:\n    return _ahonest_gradient(x, y, a, b)\nreturn 0.0, 0.0", head)


def stubs_plus(ctx: Context, tail: str) -> str:
    """The student template (every function a stub), the helpers, then module-level ``tail`` code."""
    return stub() + prelude(ctx) + "\n" + tail.strip("\n") + "\n"


def load() -> dict[str, ModuleType]:
    """{name: module} for every attack module of this package, sorted by name."""
    out = {}
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for attr in ("KIND", "HONEST", "DESCRIPTION", "source"):
            assert hasattr(module, attr), f"tests/attacks/{info.name}.py has no {attr}"
        out[info.name] = module
    return out
