"""One reply frame just under every cap of the hardened wire (16 MB, 2e5 containers, 1e6 items): 790 000
distinct floats, 2e5 empty lists and a string of 4-byte UTF-8 characters, alone on the line (the real reply is
held back a while), so that the grader decodes all of it. Its peak RSS must still stay within 100 MB."""
from tests.attacks import with_gradient

KIND = "wire"
HONEST = "gradient_stub"
DESCRIPTION = ("a right-id reply just under the frame caps (8e5 distinct floats, 2e5 lists, ~7.6 MB of 4-byte "
               "UTF-8), alone on the line: the grader decodes it all")

BODY = '''
found, rid = _arequest_id()
floats = b",".join(b"%.6f" % (1 + i * 1e-6) for i in range(790_000))
lists = b",".join([b"[]"] * 195_000)
text = ("\\U0001F600" * 1_900_000).encode()
frame = (b'{"id":' + _ajson.dumps(rid).encode() + b',"ok":[' + floats + b"," + lists + b',"' + text + b'"]}\\n')
for fd in _areply_fds()[:1]:
    try:
        _awrite_all(fd, frame)
    except OSError:
        pass
_atime.sleep(1.5)    # the forged frame is read alone; the real reply comes later
return 0.0, 0.0
'''


def source(ctx):
    return with_gradient(ctx, BODY)
