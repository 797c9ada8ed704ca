"""Resource limits applied inside the worker process, before the student's code is imported."""
from __future__ import annotations

import resource

#: Largest file student code may write (its working folder only); a runaway writer gets EFBIG, not a full disk.
MAX_FILE_BYTES = 64 * 2**20


def apply_in_child() -> None:
    """Runs in the forked child just before exec (``preexec_fn``): no core dumps, bounded file size."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
