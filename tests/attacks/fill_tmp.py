"""Fill /tmp, /var/tmp, /dev/shm, $TMPDIR, $HOME and the cwd with big files (capped at 1 GB in all: the machine is
shared). Nothing the attack writes may outlive the grading."""
from tests.attacks import with_gradient

KIND = "resources"
HONEST = "gradient_stub"
DESCRIPTION = "writes up to 1 GB of 32 MB files named after the marker into /tmp, /var/tmp, /dev/shm, TMPDIR, HOME, cwd"

HEAD = '''
def _afill(total=2**30, size=32 * 2**20):
    block = b"\\0" * (1 << 20)
    written = 0
    for d in ("/tmp", "/var/tmp", "/dev/shm", _aos.environ.get("TMPDIR", ""), _aos.environ.get("HOME", ""), "."):
        if not d:
            continue
        for i in range(8):
            if written >= total:
                return written
            try:
                with open(_aos.path.join(d, f"{_aMARKER}-{i}.bin"), "wb") as f:
                    for _ in range(size >> 20):
                        f.write(block)
                        written += len(block)
            except OSError:
                break
    return written


_afill()
'''


def source(ctx):
    return with_gradient(ctx, "return 0.0, 0.0", head=HEAD)
