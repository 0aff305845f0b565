"""`facerec download` against an HTTP server started here on 127.0.0.1."""
import hashlib
import http.server
import io
import tarfile
import threading
import zipfile

import pytest

from facerec import FacerecError
from facerec.download import download


class _Handler(http.server.BaseHTTPRequestHandler):
    files = {}          # path -> bytes
    cut_after = {}      # path -> bytes to send before dropping the connection (once)
    honour_range = True
    log = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start = 0
        rng = self.headers.get("Range")
        self.log.append((self.path, rng))
        if rng and self.honour_range:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(body):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        cut = self.cut_after.pop(self.path, None)
        if cut is not None:
            self.wfile.write(body[start:start + cut])
            self.wfile.flush()
            self.connection.shutdown(2)  # the connection drops mid-transfer
            return
        self.wfile.write(body[start:])


@pytest.fixture
def server():
    _Handler.files, _Handler.cut_after, _Handler.log = {}, {}, []
    _Handler.honour_range = True
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Handler
    httpd.shutdown()
    httpd.server_close()


def _model_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("20180402-114759/20180402-114759.pb", b"G" * 200_000)
        z.writestr("20180402-114759/model-20180402-114759.meta", b"M" * 1000)
    return buf.getvalue()


def _lfw_tgz() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name in ["lfw/Ann/Ann_0001.jpg", "lfw/Bob/Bob_0001.jpg"]:
            data = b"J" * 5000
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_download_verifies_and_unpacks(server, tmp_path):
    base, h = server
    body = _lfw_tgz()
    h.files["/lfw.tgz"] = body
    made = download("lfw", root=tmp_path, url=base + "/lfw.tgz", sha256=hashlib.sha256(body).hexdigest(), log=lambda *_: None)
    assert made == [tmp_path / "datasets" / "lfw"]
    assert (tmp_path / "datasets/lfw/Ann/Ann_0001.jpg").read_bytes() == b"J" * 5000
    assert not list((tmp_path / "datasets").glob("*.part")) and not (tmp_path / "datasets/lfw.tgz").exists()
    # a second run finds it done and fetches nothing
    h.log.clear()
    download("lfw", root=tmp_path, url=base + "/lfw.tgz", log=lambda *_: None)
    assert h.log == []


def test_interrupted_download_resumes(server, tmp_path):
    base, h = server
    body = _model_zip()
    h.files["/m.zip"] = body
    h.cut_after["/m.zip"] = 50_000
    with pytest.raises(FacerecError, match="run the same command again to resume"):
        download("facenet-20180402", root=tmp_path, url=base + "/m.zip", log=lambda *_: None)
    part = tmp_path / "models" / "20180402-114759.zip.part"
    have = part.stat().st_size
    assert 0 < have < len(body)
    download("facenet-20180402", root=tmp_path, url=base + "/m.zip", log=lambda *_: None)
    assert h.log[-1] == ("/m.zip", f"bytes={have}-")  # asked only for the rest
    assert (tmp_path / "models/20180402-114759/20180402-114759.pb").read_bytes() == b"G" * 200_000
    assert not part.exists()


def test_server_without_range_support_restarts_cleanly(server, tmp_path):
    base, h = server
    body = _model_zip()
    h.files["/m.zip"] = body
    h.honour_range = False
    part = tmp_path / "models" / "20180402-114759.zip.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"garbage from an older attempt")
    download("facenet-20180402", root=tmp_path, url=base + "/m.zip", log=lambda *_: None)
    assert (tmp_path / "models/20180402-114759/model-20180402-114759.meta").exists()


def test_checksum_mismatch_deletes_the_file(server, tmp_path):
    base, h = server
    h.files["/lfw.tgz"] = _lfw_tgz()
    with pytest.raises(FacerecError, match="checksum mismatch"):
        download("lfw", root=tmp_path, url=base + "/lfw.tgz", sha256="0" * 64, log=lambda *_: None)
    assert not list((tmp_path / "datasets").iterdir())


def test_http_error_and_unknown_name(server, tmp_path):
    base, _ = server
    with pytest.raises(FacerecError, match="HTTP 404"):
        download("lfw", root=tmp_path, url=base + "/missing.tgz", log=lambda *_: None)
    with pytest.raises(FacerecError, match="unknown download"):
        download("imagenet", root=tmp_path)


def test_archive_escaping_its_folder_is_refused(server, tmp_path):
    base, h = server
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../evil.txt", b"x")
    h.files["/evil.zip"] = buf.getvalue()
    with pytest.raises(FacerecError, match="outside"):
        download("facenet-20170512", root=tmp_path, url=base + "/evil.zip", log=lambda *_: None)
    assert not (tmp_path / "evil.txt").exists()
