"""The kit's tests' warm grader: one process per test worker grades request after request with
:func:`autograder.grader.grade`, the function ``python -m autograder grade`` calls, with grade-all's sandbox: boxes
forked by a fork server (``python -m autograder grade`` alone starts cold boxes; tests/test_forkserver.py shows both
grade alike). The start-up (Python, the grader's imports, the fork server's libraries) is paid once.

Run by :class:`tests.conftest.WarmGrader` as ``python -m tests.warm_server``: one JSON request per line on stdin
(``submission``, ``results``, ``assignments`` (empty: all), ``hidden``, ``config`` (optional), ``only`` (optional
check ids)), one JSON reply per line on stdout once results.json is written. A grader error ends the process: the
test that asked sees the log.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> int:
    from autograder import assignment as parts
    from autograder import config as cfg
    from autograder import zygote
    from autograder.grader import grade
    from autograder.results import to_gradescope, write_json

    # The fork server keeps the libraries it started with: start it with every assignment's, as grade-all's graders
    # do, or a test of pytorch_basics after one of linear_neuron would import torch in each of its boxes.
    zygote.ForkServer.for_bulk()
    zygote.ForkServer.want(tuple(m for a in cfg.assignment_names() for m in parts.libraries(a)))
    for line in sys.stdin:
        request = json.loads(line)
        # Loaded at every request: a test may write a config of its own (shorter limits) under any path.
        config = cfg.load(request["config"]) if request.get("config") else cfg.load()
        ids = request.get("only")
        run = grade(Path(request["submission"]), request["assignments"] or list(config.assignments),
                    with_hidden=request["hidden"], config=config,
                    only=None if ids is None else (lambda c, ids=frozenset(ids): c.id in ids))
        write_json(to_gradescope(run), Path(request["results"]))
        sys.stdout.write(json.dumps({"seconds": run.execution_time}) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
