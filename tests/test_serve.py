"""facerec serve: the routes, hostile requests, the API key, cameras, the live stream, the webhook."""
import io
import json
import shutil
import struct
import threading
import time
import warnings
import zlib
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

with warnings.catch_warnings():  # Starlette 1.x asks for httpx2 (new) and works with httpx, as older ones do
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402,F401

from faces import astronaut, sample  # noqa: E402
from serving import make_clip, make_gallery, running  # noqa: E402

from facerec.cli import main  # noqa: E402


def _jpeg(rgb) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def _photo(name) -> bytes:
    from facerec.samples import find

    sample(name)
    return (find() / name).read_bytes()


def huge_png(width=20000, height=20000) -> bytes:
    """A complete, valid 400-megapixel PNG (1-bit grey, so it is small and quick to make)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\0" * (1 + (width + 7) // 8)
    z = zlib.compressobj(9)
    body = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def gallery_file(tmp_path_factory, default_embedder):
    return make_gallery(tmp_path_factory.mktemp("serve") / "people.npz", default_embedder)


@pytest.fixture(scope="module")
def client(gallery_file, tmp_path_factory):
    from fastapi.testclient import TestClient

    from facerec.serve.app import create_app
    from facerec.serve.service import Service

    path = tmp_path_factory.mktemp("serve-routes") / "people.npz"
    shutil.copy(gallery_file, path)
    with TestClient(create_app(Service(path))) as c:
        c.gallery_path = path
        yield c


def _identify(client, data, name="photo.jpg"):
    r = client.post("/v1/identify", files={"image": (name, data, "image/jpeg")})
    assert r.status_code == 200, r.text
    return r.json()["faces"]


def test_identify_names_obama_and_not_a_stranger(client):
    faces = _identify(client, _photo("obama3.jpg"))
    assert [f["name"] for f in faces] == ["Barack_Obama"]
    assert set(faces[0]) == {"box", "name", "probability", "distance", "masked", "soft"} and faces[0]["masked"] is False
    assert len(faces[0]["box"]) == 4 and 0 < faces[0]["distance"] < 0.42
    stranger = _identify(client, _jpeg(astronaut()))
    assert [f["name"] for f in stranger] == ["Unknown"]


def test_verify(client):
    same = client.post("/v1/verify", files={"image_a": _photo("obama.jpg"), "image_b": _photo("obama2.jpg")})
    other = client.post("/v1/verify", files={"image_a": _photo("obama.jpg"), "image_b": _photo("biden.jpg")})
    assert same.status_code == other.status_code == 200
    assert same.json()["same"] is True and other.json()["same"] is False
    assert set(same.json()) >= {"same", "distance", "max_distance", "probability"}
    assert same.json()["distance"] < same.json()["max_distance"] < other.json()["distance"]
    blank = client.post("/v1/verify", files={"image_a": _photo("obama.jpg"),
                                             "image_b": _jpeg(np.full((200, 200, 3), 128, np.uint8))})
    assert blank.status_code == 422 and "no face" in blank.json()["detail"]


def test_people_enrol_list_forget_round_trip(client):
    from facerec.identity.gallery import Gallery

    assert {p["name"] for p in client.get("/v1/people").json()["people"]} == {"Barack_Obama", "Joe_Biden"}
    r = client.post("/v1/people/Eileen_Collins", files=[("photos", ("eileen.jpg", _jpeg(astronaut()), "image/jpeg"))])
    assert r.status_code == 200, r.text
    assert r.json()["photos"] == 1
    assert dict(Gallery.load(client.gallery_path).people())["Eileen_Collins"] == 1  # on disk, not only in memory
    assert [f["name"] for f in _identify(client, _jpeg(astronaut()))] == ["Eileen_Collins"]
    r = client.post("/v1/people/Eileen_Collins", files=[("photos", ("again.jpg", _jpeg(astronaut()[::, ::-1].copy()),
                                                                    "image/jpeg"))])
    assert r.json()["photos"] == 2  # added to what she had
    r = client.post("/v1/people/Eileen_Collins", data={"replace": "true"},
                    files=[("photos", ("one.jpg", _jpeg(astronaut()), "image/jpeg"))])
    assert r.json()["photos"] == 1 and r.json()["replaced"] is True
    assert {p["name"]: p["photos"] for p in client.get("/v1/people").json()["people"]}["Eileen_Collins"] == 1
    assert client.delete("/v1/people/Eileen_Collins").status_code == 200
    assert "Eileen_Collins" not in dict(Gallery.load(client.gallery_path).people())
    assert [f["name"] for f in _identify(client, _jpeg(astronaut()))] == ["Unknown"]
    r = client.delete("/v1/people/Eileen_Collins")
    assert r.status_code == 404 and "not in the gallery" in r.json()["detail"]
    r = client.post("/v1/people/Nobody", files=[("photos", ("grey.jpg", _jpeg(np.full((99, 99, 3), 90, np.uint8)),
                                                            "image/jpeg"))])
    assert r.status_code == 422 and "no face" in r.json()["detail"]
    assert "Nobody" not in dict(Gallery.load(client.gallery_path).people())


def test_enrolment_that_cannot_be_written_changes_nothing(client, monkeypatch):
    """The gallery is written to a temporary file and renamed: a failure at the rename (a crash,
    a full disk) leaves the file and the service's gallery as they were."""
    import os

    before = client.gallery_path.read_bytes()

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    r = client.post("/v1/people/Eileen_Collins", files=[("photos", ("e.jpg", _jpeg(astronaut()), "image/jpeg"))])
    monkeypatch.undo()
    assert r.status_code >= 400 and "No space left" in r.json()["detail"]
    assert client.gallery_path.read_bytes() == before
    assert "Eileen_Collins" not in {p["name"] for p in client.get("/v1/people").json()["people"]}
    assert not [p for p in client.gallery_path.parent.iterdir() if p.name.endswith(".tmp")]  # no temporary left


def test_forgetting_on_a_full_disk_is_refused_in_one_line_and_changes_nothing(client, monkeypatch):
    """Issue 23, finding 10: a DELETE on a full disk answered 500."""
    import os

    before = client.gallery_path.read_bytes()

    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    r = client.delete("/v1/people/Joe_Biden")
    monkeypatch.undo()
    assert r.status_code == 507 and "cannot write" in r.json()["detail"] and "No space left" in r.json()["detail"]
    assert client.gallery_path.read_bytes() == before
    assert "Joe_Biden" in {p["name"] for p in client.get("/v1/people").json()["people"]}


def test_enrolment_builds_on_a_file_changed_by_someone_else(client, default_embedder):
    """facerec enrol run on the gallery while the service runs: the service's next change keeps it."""
    from facerec.identity.gallery import Gallery

    g = Gallery.load(client.gallery_path)
    g.add("Eileen_Collins", default_embedder.embed(np.zeros((1, 150, 150, 3), np.uint8)), ["outside.jpg"])
    g.save(client.gallery_path)
    r = client.post("/v1/people/Joe_Biden", files=[("photos", ("b.jpg", _photo("biden.jpg"), "image/jpeg"))])
    assert r.status_code == 200
    assert dict(Gallery.load(client.gallery_path).people()) == {"Barack_Obama": 2, "Joe_Biden": 2, "Eileen_Collins": 1}
    client.delete("/v1/people/Eileen_Collins")
    client.post("/v1/people/Joe_Biden", data={"replace": "true"},
                files=[("photos", ("b.jpg", _photo("biden.jpg"), "image/jpeg"))])


def _chunks(total, size=1 << 20):
    for _ in range(total // size):
        yield b"\0" * size


HOSTILE = {
    "not an image": (lambda c: c.post("/v1/identify", files={"image": ("x.jpg", b"hello, not a photo", "image/jpeg")}),
                     400, "not an image"),
    "400-megapixel PNG": (lambda c: c.post("/v1/identify", files={"image": ("big.png", huge_png(), "image/png")}),
                          413, "20000x20000"),
    "wrong content type": (lambda c: c.post("/v1/identify", json={"image": "obama.jpg"}), 415, "multipart/form-data"),
    "text field for the file": (lambda c: c.post("/v1/identify", files={"image": (None, "just text")}), 422,
                                "as a file"),
    "50 MB body": (lambda c: c.post("/v1/identify", content=b"\0" * (50 << 20),
                                    headers={"Content-Type": "multipart/form-data; boundary=x"}), 413, "limit"),
    "50 MB body, no length": (lambda c: c.post("/v1/identify", content=_chunks(50 << 20),
                                               headers={"Content-Type": "multipart/form-data; boundary=x"}),
                              413, "limit"),
    "name with ../": (lambda c: c.post("/v1/people/..%2F..%2Fetc%2Fpasswd",
                                       files=[("photos", ("o.jpg", _photo("obama.jpg"), "image/jpeg"))]),
                      400, "cannot be a person's name"),
    "name ..": (lambda c: c.delete("/v1/people/%2E%2E"), 400, "cannot be a person's name"),
    "name Unknown": (lambda c: c.post("/v1/people/Unknown", files=[("photos", ("o.jpg", b"x", "image/jpeg"))]),
                     400, "cannot be a person's name"),
    "unknown route": (lambda c: c.get("/v1/nothing"), 404, "Not Found"),
    "bad query": (lambda c: c.get("/v1/events?limit=-5"), 422, "limit"),
}


@pytest.mark.parametrize("what", list(HOSTILE))
def test_hostile_requests_get_a_json_4xx_and_the_service_goes_on(client, what):
    send, status, message = HOSTILE[what]
    r = send(client)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert message in r.json()["detail"]
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/v1/people").status_code == 200


def test_the_service_still_identifies_after_hostile_requests(client):
    for what in HOSTILE:
        HOSTILE[what][0](client)
    assert [f["name"] for f in _identify(client, _photo("obama3.jpg"))] == ["Barack_Obama"]


def test_api_key(gallery_file, tmp_path):
    from fastapi.testclient import TestClient

    from facerec.serve.app import create_app
    from facerec.serve.service import Service

    with TestClient(create_app(Service(gallery_file, api_key="s3cret-key"))) as c:
        for r in (c.get("/v1/people"), c.get("/v1/people", headers={"X-API-Key": "wrong-key"}),
                  c.post("/v1/identify", files={"image": _photo("obama3.jpg")}), c.get("/v1/events"),
                  c.delete("/v1/people/Barack_Obama")):
            assert r.status_code == 401 and "API key" in r.json()["detail"]
        assert c.get("/v1/people", headers={"X-API-Key": "s3cret-key"}).status_code == 200
        assert c.get("/v1/people", headers={"Authorization": "Bearer s3cret-key"}).status_code == 200
        assert c.get("/healthz").status_code == 200 and c.get("/").status_code == 200  # no data in either
        assert c.post("/v1/session", data={"key": "wrong-key"}).status_code == 401
        assert c.post("/v1/session", data={"key": "s3cret-key"}).status_code == 200  # the page's cookie
        assert c.get("/v1/people").status_code == 200


def test_cross_site_requests_and_foreign_host_names_are_refused(client, gallery_file):
    from facerec.serve.app import create_app
    from facerec.serve.service import Service

    r = client.post("/v1/people/Mallory", headers={"Origin": "http://evil.example"},
                    files=[("photos", ("m.jpg", _photo("obama3.jpg"), "image/jpeg"))])
    assert r.status_code == 403 and "cross-site" in r.json()["detail"]
    assert client.delete("/v1/people/Joe_Biden", headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.get("/v1/people", headers={"Origin": "http://evil.example"}).status_code == 200  # reading is CORS's
    same = client.post("/v1/identify", headers={"Origin": "http://testserver"}, files={"image": _photo("obama3.jpg")})
    assert same.status_code == 200
    assert {p["name"] for p in client.get("/v1/people").json()["people"]} == {"Barack_Obama", "Joe_Biden"}
    with TestClient(create_app(Service(gallery_file), allowed_hosts=["127.0.0.1", "localhost"]),
                    base_url="http://127.0.0.1:8000") as local:
        assert local.get("/healthz").status_code == 200
        r = local.get("/v1/people", headers={"Host": "rebound.example:8000"})
        assert r.status_code == 400 and "not one this service answers to" in r.json()["detail"]


def _one_line(err):
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("argv, message", [
    (["--host", "0.0.0.0"], "refusing to listen on 0.0.0.0 without --api-key"),
    (["--host", "::"], "refusing to listen on :: without --api-key"),
    (["--camera", "door"], "expected NAME=SOURCE"),
    (["--camera", "a/b=0"], "must be 1 to 32 letters"),
    (["--max-upload-mb", "0"], "argument --max-upload-mb: 0 must be a number over 0"),
    (["--events", "GALLERY"], "refusing to write over it"),
    (["--camera", "door=CLIP", "--events", "CLIP"], "refusing to write over it"),
    (["--camera", "door=no-such-clip.mp4"], "no such video file"),  # a typo, where a camera may be down
    (["--camera", "door=NOTES"], "not a video OpenCV can read"),
])
def test_serve_refuses_bad_settings_in_one_line(gallery_file, capsys, monkeypatch, argv, message):
    monkeypatch.delenv("FACEREC_API_KEY", raising=False)
    import cv2

    clip = gallery_file.parent / "clip.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for _ in range(5):
        writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    notes = gallery_file.parent / "notes.txt"
    notes.write_text("not a video\n")
    argv = [a.replace("GALLERY", str(gallery_file)).replace("CLIP", str(clip)).replace("NOTES", str(notes))
            for a in argv]
    try:
        rc = main(["serve", "--gallery", str(gallery_file), *argv])
    except SystemExit as stop:  # a number out of range: refused by the parser, exit 2
        rc = stop.code
    err = capsys.readouterr().err
    assert rc in (1, 2) and message in err
    _one_line(err)


def test_serve_says_when_the_port_is_taken(gallery_file, capsys):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        rc = main(["serve", "--gallery", str(gallery_file), "--port", str(s.getsockname()[1])])
    err = capsys.readouterr().err
    assert rc == 1 and "cannot listen on 127.0.0.1" in err
    _one_line(err)


class _Hook(BaseHTTPRequestHandler):
    """A webhook receiver whose first answer is a 500 (the service must retry)."""

    received: list = []
    calls = 0

    def do_POST(self):  # noqa: N802
        type(self).calls += 1
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).calls == 1:
            self.send_response(500)
        else:
            type(self).received.append(json.loads(body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def _wait(condition, timeout, every=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    return condition()


def test_a_camera_names_a_face_in_events_the_stream_the_log_and_the_webhook(gallery_file, tmp_path):
    import httpx

    from facerec.serve.service import Service

    clip = make_clip(tmp_path / "door.mp4")
    hook = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    log = tmp_path / "logs" / "events.jsonl"
    service = Service(gallery_file, cameras={"door": str(clip)}, events_log=log,
                      webhook=f"http://127.0.0.1:{hook.server_address[1]}/hook", backoff=(0.1, 0.5))
    service.bus.webhook.first_delay = 0.1
    streamed = []

    def listen(url):
        with httpx.stream("GET", f"{url}/v1/events/stream?after=0", timeout=30) as r:
            kind = None
            for line in r.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    streamed.append((kind, json.loads(line[6:])))
                    if kind == "appeared" and streamed[-1][1]["name"] == "Barack_Obama":
                        return

    try:
        with running(service) as url:
            listener = threading.Thread(target=listen, args=(url,), daemon=True)
            listener.start()
            listener.join(30)
            named = [e for k, e in streamed if k == "appeared" and e["name"] == "Barack_Obama"]
            assert named and named[0]["type"] == "appeared" and named[0]["camera"] == "door", streamed
            recent = httpx.get(f"{url}/v1/events").json()["events"]
            assert any(e["name"] == "Barack_Obama" and e["camera"] == "door" for e in recent)
            thumb = httpx.get(f"{url}/v1/appearances/{named[0]['appearance']}/thumbnail")
            assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"  # a JPEG
            health = httpx.get(f"{url}/healthz").json()
            assert health["cameras"]["door"]["state"] == "running" and health["cameras"]["door"]["frames"] > 0
            assert _wait(lambda: any(e["name"] == "Barack_Obama" for e in _Hook.received), 10)
            assert service.bus.webhook.retries >= 1  # the first delivery failed and was retried
            assert _wait(lambda: log.exists() and "Barack_Obama" in log.read_text(), 5)
    finally:
        hook.shutdown()
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert {"appeared", "left"} <= {e["type"] for e in lines}  # the camera's tracks were closed on stopping
    assert all({"id", "time", "camera", "appearance", "name", "start"} <= set(e) for e in lines)


def test_a_camera_whose_source_vanishes_is_reported_and_retried(gallery_file, tmp_path):
    from fastapi.testclient import TestClient

    from facerec.serve.app import create_app
    from facerec.serve.service import Service

    clip = make_clip(tmp_path / "source.mp4", seconds=1.0)
    path = tmp_path / "camera.mp4"
    service = Service(gallery_file, cameras={"door": str(path)}, backoff=(0.1, 0.4))
    with TestClient(create_app(service)) as c:
        def door():
            return c.get("/healthz").json()["cameras"]["door"]

        down = _wait(lambda: door()["failures"] >= 3 and door(), 10)
        assert down["state"] == "reconnecting" and "not found" in down["last_error"]
        assert c.get("/healthz").json()["status"] == "degraded"
        shutil.copy(clip, path)  # the source comes back
        assert _wait(lambda: door()["state"] == "running" and door()["frames"] > 0, 10)
        path.unlink()  # and goes away again (noticed when the file loops)
        assert _wait(lambda: door()["state"] == "reconnecting", 10)
        assert c.get("/healthz").json()["cameras_down"] == ["door"]


def test_without_the_key_the_body_is_never_read(gallery_file):
    """Issue 23, finding 6: the key was checked after the whole body had been read."""
    import asyncio

    from facerec.serve.app import create_app
    from facerec.serve.service import Service

    app = create_app(Service(gallery_file, api_key="s3cret-key"))
    read, sent = [], []

    async def receive():
        read.append(1)
        return {"type": "http.request", "body": b"x" * 1000, "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/identify", "raw_path": b"/v1/identify",
             "query_string": b"", "headers": [(b"host", b"testserver"), (b"content-length", b"20000000"),
                                              (b"content-type", b"multipart/form-data; boundary=x")],
             "scheme": "http", "server": ("testserver", 80), "client": ("127.0.0.1", 1), "root_path": "",
             "http_version": "1.1", "app": app}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 401 and read == []


def test_an_enrolment_of_many_large_photos_decodes_one_at_a_time(client, monkeypatch):
    """Issue 23, finding 6: 20 photos of 40 megapixels were all decoded before any was looked at
    (3.5 GB at once); now each is decoded in its turn and let go before the next."""
    from facerec.serve import uploads

    order = []
    decode = uploads.decode_image
    monkeypatch.setattr(uploads, "decode_image", lambda *a, **k: (order.append("decode"), decode(*a, **k))[1])
    pipeline = client.app.state.service.recognizer.pipeline
    faces = pipeline.faces
    monkeypatch.setattr(pipeline, "faces", lambda *a, **k: (order.append("faces"), faces(*a, **k))[1])
    photos = [("photos", (f"p{i}.jpg", _photo("obama3.jpg"), "image/jpeg")) for i in range(3)]
    r = client.post("/v1/people/Barack_Obama", files=photos)
    assert r.status_code == 200 and r.json()["added"] >= 1
    assert order == ["decode", "faces"] * 3


def test_a_webhook_that_answers_a_byte_at_a_time_does_not_hold_delivery_for_ever():
    """Issue 23, finding 6: the time-out was per read, so a server sending a byte every 2 s held
    the webhook's thread for ever; now each POST is cut after twice the time-out."""
    import socket
    import threading
    import time

    from facerec.serve.events import Webhook

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def dribble():
        conn, _ = server.accept()
        conn.recv(65536)
        for byte in b"HTTP/1.1 200 OK\\r\\nContent-Length: 100000\\r\\n\\r\\n" + b"x" * 100000:
            if stop.wait(0.2):
                break
            try:
                conn.send(bytes([byte]))
            except OSError:
                break
        conn.close()

    threading.Thread(target=dribble, daemon=True).start()
    hook = Webhook(f"http://127.0.0.1:{server.getsockname()[1]}/", attempts=1, timeout=0.5)
    hook.put({"type": "left"})
    deadline = time.monotonic() + 30  # the dribble alone would take over five hours
    while not hook.failed and time.monotonic() < deadline:
        time.sleep(0.05)
    given_up = hook.failed  # while the server still dribbles
    stop.set()
    hook.close()
    server.close()
    assert given_up == 1 and hook.delivered == 0


def test_the_key_in_the_pages_cookie_is_found_beside_other_cookies():
    """The check made before the body is read reads cookies as the routes do: a foreign cookie
    that a strict parser gives up on must not hide the key (review of issue 23)."""
    from facerec.serve.app import _has_key

    for cookie in ('x={"a":1}; facerec_key=K3y-value', "a=b c; facerec_key=K3y-value", "facerec_key=K3y-value"):
        assert _has_key("K3y-value", {"cookie": cookie})
    assert not _has_key("K3y-value", {"cookie": "facerec_key=wrong"}) and not _has_key("K3y-value", {})


def test_uploaded_photos_are_looked_at_no_more_than_photos_at_once_together(client, monkeypatch):
    """Issue 23, finding 6: concurrent requests each decoding a 40-megapixel photo filled the memory;
    now at most Limits.photos_at_once photos are decoded and looked at together."""
    import threading
    import time

    from facerec.serve import uploads

    service = client.app.state.service
    at_once, peak, lock = [0], [0], threading.Lock()
    decode = uploads.decode_image

    def slow_decode(*args, **kwargs):
        with lock:
            at_once[0] += 1
            peak[0] = max(peak[0], at_once[0])
        time.sleep(0.2)  # long enough for the other requests to arrive meanwhile
        try:
            return decode(*args, **kwargs)
        finally:
            with lock:
                at_once[0] -= 1

    monkeypatch.setattr(uploads, "decode_image", slow_decode)
    photo = _photo("obama3.jpg")
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(_identify_status(client, photo))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [200] * 6 and 1 <= peak[0] <= service.limits.photos_at_once


def _identify_status(client, photo):
    return client.post("/v1/identify", files={"image": ("p.jpg", photo, "image/jpeg")}).status_code
