"""Connect to a TCP listener on 127.0.0.1 (the test's own, standing for any local service: a grade-server, a
database, a metadata endpoint). gradient_1d is right only if the connection worked."""
from tests.attacks import gated_gradient

KIND = "network"
HONEST = "gradient_stub"
DESCRIPTION = "connects to 127.0.0.1:<test listener> and sends the marker; gradient_1d is right only if it worked"

HEAD = '''
def _aconnect():
    import socket
    for host in ("127.0.0.1", "localhost"):
        try:
            with socket.create_connection((host, _aPORT), timeout=1.0) as s:
                s.sendall(_aMARKER.encode() + b"\\n")
                return True
        except OSError:
            pass
    return False
'''


def source(ctx):
    return gated_gradient(ctx, "_aconnect()", head=HEAD)
