"""Command line: ``python -m autograder grade [--submission DIR] [--assignment NAME]... [--results FILE]
[--with-hidden]``. Exit status 0 whenever grading completed, whatever the score; 2 for a usage error."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from autograder import config as cfg
from autograder.config import KIT_ROOT


#: Options of ``grade`` that skip work nobody reads when a release grades (the HTML report of a Gradescope or a
#: notebook grading). The release bakes them into its scripts, which ship with this very engine.
NO_REPORT = "--no-report"
QUIET_GRADE_FLAGS: tuple[str, ...] = (NO_REPORT,)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line on stderr, not argparse's usage block
        self.exit(2, f"neurograde: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m autograder", description="Grade neurograde submissions.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    g = sub.add_parser("grade", help="grade one submission directory")
    g.add_argument("--submission", type=Path, default=KIT_ROOT / "student_template",
                   help="directory holding the contract files, <assignment>.py for each assignment of grading.yml "
                        "(default: student_template/)")
    g.add_argument("--assignment", action="append", metavar="NAME",
                   help="assignment to grade, repeatable: one of grading.yml's (default: all)")
    g.add_argument("--results", type=Path, default=Path("results/results.json"),
                   help="where to write Gradescope's results.json (default: results/results.json)")
    g.add_argument("--with-hidden", action="store_true", help="also run the hidden checks")
    g.add_argument(NO_REPORT, action="store_true",
                   help="skip the HTML report with plots of your code (written next to --results by default)")
    g.add_argument("--config", type=Path, default=cfg.DEFAULT_PATH, help=argparse.SUPPRESS)
    sub.add_parser("stubs", help="regenerate student_template/ from the reference solutions")
    r = sub.add_parser("release", help="write dist/: the student bundle, Gradescope zips, the nbgrader course")
    r.add_argument("--dist", type=Path, default=KIT_ROOT / "dist", help="output folder (default: dist/)")
    r.add_argument("--only", action="append", choices=("student", "gradescope", "nbgrader", "otter"),
                   metavar="TARGET",
                   help="build only this target, repeatable: student, gradescope, nbgrader, otter (default: all)")
    b = sub.add_parser("grade-all", help="grade a whole class (one submission per student) in parallel")
    b.add_argument("source", type=Path, help="folder of student folders, Gradescope export zip, or LMS download folder")
    b.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default: 2)")
    b.add_argument("--out", type=Path, default=Path("results/gradebook.csv"), help="CSV gradebook to write")
    b.add_argument("--force", action="store_true", help="regrade submissions whose files did not change")
    b.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="grade even where student code cannot be isolated in namespaces (bubblewrap): students "
                        "could then read or change each other's files and results")
    b.add_argument("--scheduler", metavar="ADDRESS",
                   help="grade on a dask.distributed cluster (e.g. tcp://host:8786) instead of this machine; "
                        "each worker needs the kit at this commit and bubblewrap (docs/instructors.md)")
    b.add_argument("--config", type=Path, default=cfg.DEFAULT_PATH, help=argparse.SUPPRESS)
    server = sub.add_parser("grade-server")  # internal: grade-all's warm graders, one request per stdin line
    server.add_argument("--config", type=Path, default=cfg.DEFAULT_PATH)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "grade":
        return _grade(args)
    if args.command == "grade-all":
        return _grade_all(args)
    if args.command == "grade-server":
        from autograder.bulk import serve
        return serve(args.config)
    if args.command == "release":
        from autograder.release import main as release
        return release(args.dist, args.only)
    if args.command == "stubs":
        from autograder.stubs import write_stubs
        for path in write_stubs():
            print(f"wrote {path.relative_to(KIT_ROOT)}")
        return 0
    return 2


def _grade(args: argparse.Namespace) -> int:
    from autograder.grader import grade
    from autograder.progress import Progress
    from autograder.report import render_table
    from autograder.results import to_gradescope, write_json

    if not args.submission.is_dir():
        print(f"neurograde: error: submission directory {args.submission} does not exist", file=sys.stderr)
        return 2
    try:
        config = cfg.load(args.config)
        assignments = list(dict.fromkeys(args.assignment or config.assignments))
        if unknown := [a for a in assignments if a not in config.assignments]:
            print(f"neurograde: error: unknown assignment(s) {', '.join(unknown)} (grading.yml has "
                  f"{', '.join(config.assignments)})", file=sys.stderr)
            return 2
        visible = "visible and hidden" if args.with_hidden else "visible"
        print(f"Grading {args.submission} ({', '.join(assignments)}; {visible} checks) ...", flush=True)
        renderer = None
        if not args.no_report:
            from autograder.html_report import Prerenderer
            renderer = Prerenderer()  # draws each plot while the next assignment is graded
        run = grade(args.submission, assignments, with_hidden=args.with_hidden, config=config,
                    feedback=renderer is not None, progress=Progress(sys.stderr),
                    on_panel=renderer.submit if renderer else None)
    except cfg.ConfigError as exc:
        print(f"neurograde: configuration error: {exc}", file=sys.stderr)
        return 3
    write_json(to_gradescope(run), args.results)
    print(render_table(run, config))
    print(f"\nResults written to {args.results}  ({run.execution_time:.1f} s)")
    if renderer is not None:
        from autograder.html_report import report_path, write_report
        path = report_path(args.results)
        seconds = write_report(run, config, path, submission=str(args.submission), renderer=renderer)
        renderer.close()
        extra = sum(p.seconds for p in run.feedback) + seconds
        print(f"Report with plots of your code ({extra:.1f} s): {path}")
    return 0


def _grade_all(args: argparse.Namespace) -> int:
    from autograder.bulk import grade_all

    if not args.source.exists():
        print(f"neurograde: error: {args.source} does not exist", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print("neurograde: error: --jobs must be at least 1", file=sys.stderr)
        return 2
    began = time.monotonic()
    try:
        rows = grade_all(args.source, args.out, jobs=args.jobs, force=args.force, config_path=args.config,
                         unsafe_no_sandbox=args.unsafe_no_sandbox, scheduler=args.scheduler)
    except (ValueError, OSError, cfg.ConfigError) as exc:
        print(f"neurograde: error: {exc}", file=sys.stderr)
        return 2
    failed = [r for r in rows if not r.status.startswith("ok")]
    graded = [r for r in rows if r.status != "ok (unchanged)"]
    minutes = (time.monotonic() - began) / 60
    kinds = sorted({r.isolation for r in graded if r.isolation}) or ["-"]
    where = f"cluster {args.scheduler}" if args.scheduler else f"this machine, {args.jobs} job(s)"
    print(f"Graded {len(graded)} submission(s), {len(rows) - len(graded)} unchanged, on {where} "
          f"(isolation: {', '.join(kinds)}): {len(graded) / minutes if minutes > 0 else 0:.1f} submissions a "
          f"minute; gradebook: {args.out}"
          + (f"; {len(failed)} did not finish normally: " + ", ".join(f"{r.student} ({r.status})" for r in failed)
             if failed else ""))
    return 0
