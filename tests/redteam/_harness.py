"""Shared helper for the red-team attacks: run student source in a forked box through the Worker API."""
import os, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from autograder.sandbox import Worker  # noqa: E402
from autograder.remote import Student  # noqa: E402
from autograder import zygote  # noqa: E402
from autograder.limits import Limits  # noqa: E402


def box(source: str, tag: str = "x"):
    d = Path(tempfile.mkdtemp(prefix="ngrt-"))
    (d / "linear_neuron.py").write_text(source)
    w = Worker("linear_neuron", d / "linear_neuron.py", import_timeout=60, output_limit=10**6)
    return w, Student(w, tag, time.monotonic() + 60)


def server_info():
    zygote.ForkServer.for_bulk()
    s = zygote.ForkServer.shared(Limits())
    return None if s is None else {"rootful": s.rootful, "pid": s._proc.pid}
