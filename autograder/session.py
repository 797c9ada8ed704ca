"""The untrusted side's state: the student's module, the objects the grader names by handle, and how one request
runs on them. Used by the sandboxed worker (:mod:`autograder.worker`) and, in the kit's own tests, in-process
(:mod:`autograder.inprocess`), so that both run the very same code."""
import importlib.util
import os
import random
import sys
import traceback

import numpy as np

from autograder import wire

_MAX_MESSAGE_CHARS = 2000


class Session:
    """Holds the student's module and the objects the grader refers to by handle."""

    def __init__(self, module_file: str, module_name: str, assignment: str, probes_file: str = "") -> None:
        self.module_file = os.path.abspath(module_file)
        self.module_name = module_name
        self.assignment = assignment
        self.module = None
        self.objects: dict[int, object] = {}
        self.probes_file = probes_file
        self.probes = None

    # -- handles -------------------------------------------------------------------------------------------
    def handle_of(self, obj: object) -> wire.Handle:
        self.objects[id(obj)] = obj  # keeps obj alive for the grader's later requests
        return wire.Handle(id(obj), type(obj).__name__)

    def resolve(self, h: wire.Handle) -> object:
        try:
            return self.objects[h.id]
        except KeyError:
            raise LookupError("stale handle: the object no longer exists in this worker") from None

    # -- the student module --------------------------------------------------------------------------------
    def import_module(self) -> None:
        self.module = _load(self.module_name, self.module_file)

    def run(self, req: dict):
        op = req["op"]
        seed = int(req.get("seed", 0))
        seed_everything(seed)
        args = wire.decode(req.get("args", []), resolve=self.resolve)
        kwargs = wire.decode(req.get("kwargs", {"__dict__": {}}), resolve=self.resolve)
        target = wire.decode(req["target"], resolve=self.resolve) if req.get("target") is not None else None
        name = req.get("name")
        if op == "getattr":
            return getattr(self.module if target is None else target, name)
        if op == "setattr":
            setattr(target, name, args[0])
            return None
        if op == "call":
            fn = getattr(self.module, name) if target is None else target
            return fn(*args, **kwargs)
        if op == "probe":
            if self.probes is None:
                self.probes = _load(f"neurograde_probes_{self.assignment}", self.probes_file)
            return getattr(self.probes, name)(self.module, *args, **kwargs)
        if op == "hold":
            return args[0]
        if op == "ping":
            return None
        raise ValueError(f"unknown op {op!r}")


class _Entropy:
    """What ``np.random.default_rng()`` without a seed draws from, derived from the request's seed: an unseeded
    Generator gives a new stream at each call, as it would anyway, yet the same streams when the grader repeats a
    request under the same seed, so grading is repeatable and paired calls differ only by what the inputs change."""

    def __init__(self) -> None:
        self.seed, self.drawn = 0, 0

    def reset(self, seed: int) -> None:
        self.seed, self.drawn = seed, 0

    def next(self) -> np.random.SeedSequence:
        self.drawn += 1
        return np.random.SeedSequence([self.seed, self.drawn])


_ENTROPY = _Entropy()
_default_rng = np.random.default_rng


def _default_rng_from_the_request(seed=None):
    return _default_rng(_ENTROPY.next() if seed is None else seed)


_default_rng_from_the_request.__doc__ = _default_rng.__doc__


def install_entropy() -> None:
    """Make ``np.random.default_rng()`` draw from the request's seed; call before the student's module binds it."""
    np.random.default_rng = _default_rng_from_the_request


def _load(name: str, path: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    _ENTROPY.reset(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def describe_exception(exc: BaseException, module_file: str) -> dict:
    """Type, message and the last frame of the student's own file (not the grader's)."""
    where, function = "", ""
    # Qualified names (Adaline.__init__, not __init__) where the interpreter keeps them (Python 3.11 and newer).
    qualnames, tb = [], exc.__traceback__
    while tb is not None:
        qualnames.append(getattr(tb.tb_frame.f_code, "co_qualname", tb.tb_frame.f_code.co_name))
        tb = tb.tb_next
    for frame, qualname in zip(traceback.extract_tb(exc.__traceback__), qualnames):
        if os.path.abspath(frame.filename) == module_file:
            function = qualname
            where = f"{os.path.basename(frame.filename)}, line {frame.lineno}, in {frame.name}"
            if frame.line:
                where += f": {frame.line.strip()}"
    if isinstance(exc, SyntaxError) and exc.lineno:
        where = f"{os.path.basename(exc.filename or module_file)}, line {exc.lineno}"
        if exc.text:
            where += f": {exc.text.strip()}"
    try:
        message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    except BaseException:  # a student exception whose __str__ itself fails
        message = "<unprintable message>"
    return {"type": type(exc).__name__, "message": message[:_MAX_MESSAGE_CHARS], "where": where,
            "function": function}


