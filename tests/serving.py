"""What the service's tests share: a gallery of the sample photos, a clip of them, a real server."""
from __future__ import annotations

import contextlib
import socket
import threading
import time

from faces import sample


def make_gallery(path, embedder):
    """Barack_Obama (obama.jpg, obama2.jpg) and Joe_Biden (biden.jpg), written to path."""
    from facerec.identity.enrolment import enrol_people
    from facerec.identity.gallery import Gallery
    from facerec.samples import find

    sample("obama.jpg")  # skips the test when the sample photos are missing
    root = find()
    g = Gallery.for_embedder(embedder)
    enrol_people(g, embedder, [("Barack_Obama", [root / "obama.jpg", root / "obama2.jpg"]),
                               ("Joe_Biden", [root / "biden.jpg"])], progress=False)
    g.save(path)
    return path


def make_clip(path, seconds: float = 2.0, fps: int = 15):
    """A short clip of obama3.jpg (a photo the gallery was not made from), as a camera would see it."""
    from facerec.demo import render_clip

    return render_clip([sample("obama3.jpg")], path, fps=fps, seconds_each=seconds)


@contextlib.contextmanager
def running(service, access_log: bool = False):
    """The service's app under uvicorn on a free port of 127.0.0.1, in a thread; yields its URL."""
    import uvicorn

    from facerec.serve.app import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    config = uvicorn.Config(create_app(service), log_level="warning", access_log=access_log,
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        service.bus.end_streams()  # as server.serve does on Ctrl-C: open streams end, not time out
        server.should_exit = True
        thread.join(15)
        sock.close()
