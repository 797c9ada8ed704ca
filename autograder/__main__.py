import os
import sys

from autograder.cli import main

code = main()
if len(sys.argv) > 1 and sys.argv[1] == "grade":
    # A grading's outputs are written and closed by now. Ending here skips the interpreter's teardown of torch and
    # scikit-learn (about 0.9 s here, a tenth of a whole-kit grading); the warm fork server is stopped first.
    from autograder.zygote import ForkServer
    ForkServer.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 1)
raise SystemExit(code)
