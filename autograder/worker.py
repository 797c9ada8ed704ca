"""The untrusted side: imports one student module and runs calls on it, one request at a time.

Run as a script by :mod:`autograder.sandbox` (never imported by the grader)::

    python -I autograder/worker.py KIT_ROOT MODULE_FILE MODULE_NAME ASSIGNMENT REQUEST_FD RESPONSE_FD

Requests and responses are single JSON lines (see :mod:`autograder.wire`). Everything the student's code prints
goes to this process's stdout/stderr, which the grader drains and caps; the protocol uses two other descriptors.
Nothing here is trusted by the grader: it only ever reads plain data back.
"""
import os
import sys

# With -I on Python 3.10 the script's own folder is still sys.path[0]; the grader's modules must not be
# importable by their bare names, so drop it and append the kit root after the standard library instead.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != _here]
sys.path.append(sys.argv[1])

import importlib  # noqa: E402
import importlib.util  # noqa: E402
import random  # noqa: E402
import traceback  # noqa: E402

import numpy as np  # noqa: E402

from autograder import wire  # noqa: E402

_MAX_MESSAGE_CHARS = 2000


class Session:
    """Holds the student's module and the objects the grader refers to by handle."""

    def __init__(self, module_file: str, module_name: str, assignment: str) -> None:
        self.module_file = os.path.abspath(module_file)
        self.module_name = module_name
        self.assignment = assignment
        self.module = None
        self.objects: dict[int, object] = {}
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
        spec = importlib.util.spec_from_file_location(self.module_name, self.module_file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[self.module_name] = module
        spec.loader.exec_module(module)
        self.module = module

    def run(self, req: dict):
        op = req["op"]
        seed = int(req.get("seed", 0))
        _seed_everything(seed)
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
                self.probes = importlib.import_module(f"autograder.probes.{self.assignment}")
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
np.random.default_rng = _default_rng_from_the_request  # before the student's module binds it


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    _ENTROPY.reset(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def describe_exception(exc: BaseException, module_file: str) -> dict:
    """Type, message and the last frame of the student's own file (not the grader's)."""
    where, function = "", ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) == module_file:
            function = frame.name
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


def main() -> None:
    kit_root, module_file, module_name, assignment, req_fd, resp_fd = sys.argv[1:7]
    # Buffered: readline() on an unbuffered pipe reads one byte per system call (1.7 s for an 800 kB array).
    requests = os.fdopen(int(req_fd), "rb")
    responses = os.fdopen(int(resp_fd), "wb", buffering=0)
    session = Session(module_file, module_name, assignment)

    def send(message: dict) -> None:
        responses.write(wire.dumps(message))

    _seed_everything(0)
    try:
        session.import_module()
    except BaseException as exc:  # SyntaxError, an exception at import, even sys.exit()
        send({"id": 0, "import_error": describe_exception(exc, session.module_file)})
        return
    send({"id": 0, "ready": True})

    buf = b""
    while True:
        chunk = requests.readline()
        if not chunk:
            return
        buf += chunk
        if not buf.endswith(b"\n"):
            continue
        req, buf = wire.loads(buf), b""
        rid = req.get("id")
        try:
            value = session.run(req)
            # keep: the result stays here, named by a handle (the grader times the call, not the transfer).
            value = session.handle_of(value) if req.get("keep") else value
            message = {"id": rid, "ok": wire.encode(value, handle_of=session.handle_of)}
        except BaseException as exc:  # student code may raise anything, SystemExit included
            message = {"id": rid, "error": describe_exception(exc, session.module_file)}
        try:
            send(message)
        except (TypeError, ValueError) as exc:  # e.g. an unencodable value slipped through
            send({"id": rid, "error": describe_exception(exc, session.module_file)})


if __name__ == "__main__":
    main()
