"""The untrusted side: imports one student module and runs calls on it, one request at a time.

Run as a script by :mod:`autograder.sandbox` (never imported by the grader)::

    python -I autograder/worker.py KIT_ROOT MODULE_FILE MODULE_NAME ASSIGNMENT REQUEST_FD RESPONSE_FD [PRELOAD]

PRELOAD (comma-separated module names, chosen by the grader from the kit's own copy of the contract file) is
imported before the student's module, as a forked box finds it in the fork server: the libraries and what they
import only at a first use (torch._dynamo, 1.1 s at the first optimizer), while the box is started ahead of its
assignment, not in the middle of a timed check.

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

from autograder import wire  # noqa: E402
from autograder.session import Session, describe_exception, install_entropy, seed_everything  # noqa: E402

install_entropy()  # before the student's module binds np.random.default_rng

def main() -> None:
    kit_root, module_file, module_name, assignment, req_fd, resp_fd = sys.argv[1:7]
    for name in (sys.argv[7].split(",") if len(sys.argv) > 7 and sys.argv[7] else []):
        try:
            __import__(name)
        except Exception:  # a library missing here is imported by the student's module, which then says so
            pass
    serve(module_file, module_name, assignment, os.path.join(kit_root, "probes.py"), int(req_fd), int(resp_fd))


def serve(module_file: str, module_name: str, assignment: str, probes_file: str, req_fd: int,
          resp_fd: int) -> None:
    """Import the student's module, say hello, then answer requests until the grader closes the channel. Also the
    body of a worker forked by the fork server (:mod:`autograder.zygote_main`)."""
    # Buffered: readline() on an unbuffered pipe reads one byte per system call (1.7 s for an 800 kB array).
    requests = os.fdopen(req_fd, "rb")
    responses = os.fdopen(resp_fd, "wb", buffering=0)
    session = Session(module_file, module_name, assignment, probes_file)

    def send(message: dict) -> None:
        responses.write(wire.dumps(message))

    seed_everything(0)
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
