"""The leak probe's process (run by :func:`autograder.release.leakprobe.scan`, never imported by the kit).

Reads a pickled request on stdin: the folder to put first on ``sys.path``, the modules to import there and the
exercises' cases. Imports each module, then calls every top-level function defined in it whose parameters can
all be bound from a case's arguments: by name everywhere, and in the modules of ``assignments/`` (and loose
files) also positionally in the case's order. Each call starts from the same seeds, on copies of the inputs,
under a time limit, with every call that writes files, kills, forks or starts a program refused. Writes one JSON
line to stdout: the functions whose return value holds all of a reference result, and the modules that could not
be imported.
"""
from __future__ import annotations

import builtins
import copy
import inspect
import io
import json
import os
import pickle
import random
import signal
import sys
import traceback

CALL_SECONDS = 5.0
MAX_LEAVES = 2000


class _Timeout(BaseException):
    """A call ran out of time (a BaseException: a broad ``except Exception`` in the callee cannot swallow it)."""


class _Refused(BaseException):
    """A call tried to write, kill or start something."""


def _refuse(*args, **kwargs):
    raise _Refused("the leak probe refuses this call")


def _lock_down() -> None:
    """Refuse everything that changes the world outside this process (the probe calls functions blindly)."""
    import shutil
    import subprocess

    for name in ("kill", "killpg", "system", "fork", "forkpty", "execv", "execve", "execvp", "execvpe", "execl",
                 "execle", "execlp", "execlpe", "spawnv", "spawnve", "posix_spawn", "posix_spawnp", "remove",
                 "unlink", "rmdir", "removedirs", "rename", "renames", "replace", "chmod", "chown", "truncate",
                 "setuid", "setgid", "seteuid", "setegid", "setreuid", "setregid", "setresuid", "setresgid",
                 "mkdir", "makedirs", "symlink", "link", "popen", "setsid", "setpgid", "dup2"):
        if hasattr(os, name):
            setattr(os, name, _refuse)
    for name in ("rmtree", "move", "copy", "copy2", "copyfile", "copytree", "chown"):
        setattr(shutil, name, _refuse)
    subprocess.Popen.__init__ = _refuse  # run, call, check_output all go through it
    real_open, real_os_open = builtins.open, os.open

    def read_only_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+"):
            raise _Refused("the leak probe refuses writing")
        return real_open(file, mode, *args, **kwargs)

    def read_only_os_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND):
            raise _Refused("the leak probe refuses writing")
        return real_os_open(path, flags, *args, **kwargs)

    builtins.open = io.open = read_only_open
    os.open = read_only_os_open
    signal.signal = _refuse


def _seeded(seed: int) -> None:
    random.seed(seed)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


def _flatten(value, out: list, depth: int = 0) -> None:
    """Numeric leaves of a return value: arrays and numbers; dicts, lists, tuples and models opened up (a list
    of numbers also as one array)."""
    import numpy as np

    if len(out) > MAX_LEAVES or depth > 6:
        return
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes)):
        return
    if isinstance(value, (int, float, np.number)):
        out.append(np.asarray(value, dtype=np.float64))
        return
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fiu" and value.size:
            out.append(value.astype(np.float64))
        elif value.dtype == object:
            for item in value.ravel()[:MAX_LEAVES]:
                _flatten(item, out, depth + 1)
        return
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        out.append(value.detach().cpu().numpy().astype(np.float64))
        return
    if hasattr(value, "parameters") and callable(value.parameters) and hasattr(value, "state_dict"):
        for p in value.parameters():
            out.append(p.detach().cpu().numpy().astype(np.float64))
        return
    if isinstance(value, dict):
        for item in value.values():
            _flatten(item, out, depth + 1)
        return
    if isinstance(value, (list, tuple)):
        try:
            arr = np.asarray(value, dtype=np.float64)
            if arr.size:
                out.append(arr)
        except (TypeError, ValueError):
            pass
        for item in value:
            _flatten(item, out, depth + 1)


def _holds(leaves: list, result: list, rtol: float, atol: float) -> bool:
    """Every leaf of ``result`` is found in some leaf of ``leaves``: all its entries, in order, as the whole of a
    leaf or a run of consecutive entries of one (a trajectory that goes one step further, parameters packed into
    one vector with others)."""
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    for expected in result:
        want = expected.ravel()
        found = False
        for leaf in leaves:
            have = leaf.ravel()
            if have.size < want.size or have.size > 200_000:
                continue
            if have.size == want.size:
                found = bool(np.allclose(have, want, rtol=rtol, atol=atol))
            else:
                windows = sliding_window_view(have, want.size)
                found = bool(np.any(np.all(np.abs(windows - want) <= atol + rtol * np.abs(want), axis=1)))
            if found:
                break
        if not found:
            return False
    return True


def _methods(owner, label: str, module):
    """(name, callable, function) of the methods of a class or an instance defined in ``module``."""
    cls = owner if inspect.isclass(owner) else type(owner)
    for attr, raw in sorted(vars(cls).items()):
        if attr.startswith("__"):
            continue
        fn = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
        fn = inspect.unwrap(fn) if callable(fn) else None
        if not (inspect.isfunction(fn) and fn.__module__ == module.__name__) or inspect.isgeneratorfunction(fn):
            continue
        try:
            bound = getattr(owner, attr)
        except Exception:  # noqa: BLE001 - a property or descriptor that fails is no candidate
            continue
        if callable(bound):
            yield f"{label}.{attr}", bound, bound


def _candidates(module, with_methods: bool):
    """Top-level functions defined in ``module`` (decorated ones through their __wrapped__); with
    ``with_methods``, also the methods of its classes: on its module-level instances, and on a fresh instance of
    a class whose constructor needs no argument."""
    classes = {}
    for name, value in sorted(vars(module).items()):
        if inspect.isclass(value):
            if value.__module__ == module.__name__:
                classes.setdefault(value, None)
            continue
        fn = inspect.unwrap(value) if callable(value) else None
        if inspect.isfunction(fn) and fn.__module__ == module.__name__ and not inspect.isgeneratorfunction(fn):
            yield name, value, fn
        elif with_methods and type(value).__module__ == module.__name__ and not callable(value):
            classes[type(value)] = value
    if not with_methods:
        return
    for cls, instance in classes.items():
        if instance is None:
            try:
                required = [p for p in inspect.signature(cls).parameters.values()
                            if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
            except (TypeError, ValueError):
                continue
            if required:
                continue
            try:
                instance = cls()
            except BaseException:  # noqa: BLE001 - a class that cannot be built is no candidate
                continue
        yield from _methods(instance, cls.__name__, module)


def _bindings(fn, case, positional: bool):
    """(description, args, kwargs) of each way to call ``fn`` with the case's arguments."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return
    params = [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    required = [p for p in params if p.default is p.empty]
    arguments = case["arguments"]
    if required and all(p.name in arguments and p.kind != p.POSITIONAL_ONLY for p in required):
        kwargs = {p.name: arguments[p.name] for p in params
                  if p.name in arguments and p.kind != p.POSITIONAL_ONLY}
        yield "by name", (), kwargs
    if positional:
        positional_params = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if not required or any(p.kind == p.KEYWORD_ONLY for p in required):
            return
        counts = sorted({len(required), min(len(positional_params), len(case["order"]))})
        for k in counts:
            if len(required) <= k <= len(case["order"]):
                yield f"with {k} positional arguments", tuple(arguments[n] for n in case["order"][:k]), {}


def _on_alarm(signum, frame):
    raise _Timeout()


def main() -> None:
    out = os.fdopen(os.dup(1), "w")
    request = pickle.loads(sys.stdin.buffer.read())
    sys.path.insert(0, request["root"])
    if request.get("fallback"):
        sys.path.append(request["fallback"])
    devnull = builtins.open(os.devnull, "w")
    sys.stdout = devnull  # what the modules and the calls print is not the report
    import importlib
    import warnings

    warnings.simplefilter("ignore")
    modules, broken = [], []
    for name, path in request["modules"]:
        try:
            modules.append((importlib.import_module(name), not name.startswith("autograder.")))
        except BaseException as exc:  # noqa: BLE001 - any failure of an import is reported
            broken.append((name, "".join(traceback.format_exception_only(type(exc), exc)).strip()[-300:]))
    import numpy as np

    np.seterr(all="ignore")
    real_signal, real_setitimer = signal.signal, signal.setitimer
    real_signal(signal.SIGALRM, _on_alarm)
    _lock_down()
    cases = request["cases"]
    for case in cases:
        case["results"] = {k: [np.asarray(v, dtype=np.float64) for v in leaves]
                           for k, leaves in case["results"].items()}
    findings = []
    for module, positional in modules:
        for name, value, fn in _candidates(module, with_methods=positional):
            for case in cases:
                for how, args, kwargs in _bindings(fn, case, positional):
                    leaves: list = []
                    try:
                        _seeded(request["seed"])
                        real_setitimer(signal.ITIMER_REAL, CALL_SECONDS)
                        try:
                            result = value(*copy.deepcopy(args), **copy.deepcopy(kwargs))
                        finally:
                            real_setitimer(signal.ITIMER_REAL, 0)
                        _flatten(result, leaves)
                    except BaseException:  # noqa: BLE001 - a call that fails computes nothing
                        continue
                    for result_name, expected in case["results"].items():
                        if _holds(leaves, expected, case["rtol"], case["atol"]):
                            findings.append({"module": module.__name__, "function": name,
                                             "assignment": case["assignment"], "exercise": case["exercise"],
                                             "result": result_name, "call": how})
    out.write(json.dumps({"findings": findings, "broken": broken}) + "\n")
    out.flush()
    os._exit(0)  # no atexit handler, no thread left by a callee, may hold the report back


if __name__ == "__main__":
    main()
