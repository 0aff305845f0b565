"""`facerec download` against an HTTP server started here on 127.0.0.1."""
import hashlib
import http.server
import io
import os
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
    assert _tree(tmp_path / "models") == []  # the hostile file is not kept for a rerun either


# --- downloads never touch what they did not create -------------------------------------------

def _zip(entries: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def _hostile_model_zip() -> bytes:
    # The model plus top-level entries named like a user's folder and another model.
    return _zip({"20180402-114759/20180402-114759.pb": b"NEW" * 100,
                 "my_photos/me.jpg": b"archive's me.jpg",
                 "my_photos/extra.jpg": b"archive's extra",
                 "20170512-110547/20170512-110547.pb": b"archive's other model"})


def _user_files(models):
    files = {models / "my_photos/me.jpg": b"\xff\xd8 the user's own photo",
             models / "my_photos/notes.txt": b"the user's notes",
             models / "20170512-110547/20170512-110547.pb": b"the user's other model"}
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def _tree(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_download_refuses_to_overwrite_existing_entries(server, tmp_path, capsys):
    from facerec.cli import main

    base, h = server
    h.files["/m.zip"] = _hostile_model_zip()
    models = tmp_path / "models"
    files = _user_files(models)
    before = _tree(models)
    rc = main(["download", "facenet-20180402", "--root", str(tmp_path), "--url", base + "/m.zip"])
    err = capsys.readouterr().err
    assert rc != 0
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert str(models / "my_photos") in err and str(models / "20170512-110547") in err and "--force" in err
    for path, data in files.items():
        assert path.read_bytes() == data
    # nothing added to them, and the model itself not half-installed ("nothing was changed")
    assert _tree(models) == sorted(before + ["20180402-114759.zip.part"])
    # the verified download is kept and reused by a rerun with --force (HTTP 416: nothing left to fetch)
    h.log.clear()
    assert main(["download", "facenet-20180402", "--root", str(tmp_path), "--url", base + "/m.zip", "--force"]) == 0
    assert h.log == [("/m.zip", f"bytes={len(h.files['/m.zip'])}-")]


def test_force_replaces_only_the_downloads_own_entry(server, tmp_path):
    base, h = server
    h.files["/m.zip"] = _hostile_model_zip()
    models = tmp_path / "models"
    files = _user_files(models)
    (models / "20180402-114759").mkdir()
    (models / "20180402-114759/stale.pb").write_bytes(b"old")
    lines = []
    made = download("facenet-20180402", root=tmp_path, url=base + "/m.zip", force=True, log=lines.append)
    assert made == [models / "20180402-114759"]
    assert _tree(models / "20180402-114759") == ["20180402-114759.pb"]
    assert (models / "20180402-114759/20180402-114759.pb").read_bytes() == b"NEW" * 100
    for path, data in files.items():
        assert path.read_bytes() == data
    assert not (models / "my_photos/extra.jpg").exists()
    assert any(line.startswith(f"kept {models / 'my_photos'}") for line in lines)
    assert any(line.startswith(f"kept {models / '20170512-110547'}") for line in lines)
    assert not [p for p in models.iterdir() if p.name.startswith(".") or p.suffix in (".part", ".zip")]


def test_existing_target_without_force_is_left_alone(server, tmp_path):
    base, h = server
    h.files["/m.zip"] = _model_zip()
    mine = tmp_path / "models/20180402-114759/mine.pb"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"mine")
    download("facenet-20180402", root=tmp_path, url=base + "/m.zip", log=lambda *_: None)
    assert h.log == [] and _tree(mine.parent) == ["mine.pb"] and mine.read_bytes() == b"mine"


def test_url_without_sha256_keeps_lfws_known_checksum(server, tmp_path):
    base, h = server
    h.files["/lfw.tgz"] = _lfw_tgz()  # not the real lfw.tgz, so not its published SHA-256
    with pytest.raises(FacerecError, match="checksum mismatch"):
        download("lfw", root=tmp_path, url=base + "/lfw.tgz", log=lambda *_: None)
    assert list((tmp_path / "datasets").iterdir()) == []


def test_source_without_checksum_says_not_verified(server, tmp_path, capsys):
    from facerec.cli import main

    base, h = server
    body = _model_zip()
    h.files["/m.zip"] = body
    digest = hashlib.sha256(body).hexdigest()
    assert main(["download", "facenet-20180402", "--root", str(tmp_path), "--url", base + "/m.zip"]) == 0
    out = capsys.readouterr().out
    note = [line for line in out.splitlines() if "not verified" in line]
    assert note and digest in note[0] and f"--sha256 {digest}" in note[0]
    # pinned, it is verified and the note goes away; a wrong pin is refused
    assert main(["download", "facenet-20170512", "--root", str(tmp_path), "--url", base + "/m.zip",
                 "--sha256", "0" * 64]) == 1
    assert "checksum mismatch" in capsys.readouterr().err
    lines = []
    with pytest.raises(FacerecError, match="did not contain 20170512-110547"):
        download("facenet-20170512", root=tmp_path, url=base + "/m.zip", sha256=digest.upper(), log=lines.append)
    assert "20180402-114759.zip: SHA-256 verified" not in lines and not any("not verified" in s for s in lines)
    assert "20170512-110547.zip: SHA-256 verified" in lines


def test_bad_sha256_argument_is_one_line(tmp_path, capsys):
    from facerec.cli import main

    assert main(["download", "lfw", "--root", str(tmp_path), "--url", "http://127.0.0.1:9/lfw.tgz",
                 "--sha256", "abc"]) == 1
    err = capsys.readouterr().err
    assert "64 hexadecimal digits" in err and "Traceback" not in err
    assert not (tmp_path / "datasets").exists()


def test_interrupted_unpack_leaves_nothing(server, tmp_path, monkeypatch):
    import facerec.download as dl

    base, h = server
    h.files["/m.zip"] = _model_zip()
    real_rename = os.rename

    def interrupted(src, dst):  # Ctrl-C while moving the unpacked model into place
        if ".unpack-" in str(src):
            raise KeyboardInterrupt
        return real_rename(src, dst)

    monkeypatch.setattr(dl.os, "rename", interrupted)
    with pytest.raises(KeyboardInterrupt):
        download("facenet-20180402", root=tmp_path, url=base + "/m.zip", log=lambda *_: None)
    assert _tree(tmp_path / "models") == ["20180402-114759.zip.part"]


def test_damaged_archive_is_deleted(server, tmp_path):
    base, h = server
    h.files["/m.zip"] = b"<html>Google Drive: quota exceeded</html>"
    with pytest.raises(FacerecError, match="not a zip or tar archive.*deleted"):
        download("facenet-20180402", root=tmp_path, url=base + "/m.zip", log=lambda *_: None)
    assert _tree(tmp_path / "models") == []
