"""Enrolling from one of the service's cameras (issue 26): POST /v1/people/{name}/from-camera/{camera}
records a few seconds; preview=true shows the faces kept and enrols nothing, capture=ID enrols
exactly those; nobody in view, an unknown camera and a stale preview are refused.  The page's
button does the same in a real headless Chromium (screenshot under $FACEREC_SCREENSHOTS)."""
import os

import numpy as np
import pytest

pytest.importorskip("fastapi")

from faces import astronaut, face_crop_of_astronaut  # noqa: E402
from serving import make_gallery  # noqa: E402


def _clip(path, frames):
    from facerec.demo import render_clip

    return render_clip(frames, path, fps=15, seconds_each=2.0)


@pytest.fixture
def service(tmp_path, default_embedder):
    from facerec.serve.service import Service

    gallery = make_gallery(tmp_path / "people.npz", default_embedder)
    door = _clip(tmp_path / "door.mp4", [astronaut(), face_crop_of_astronaut()])
    empty = _clip(tmp_path / "empty.mp4", [np.full((360, 640, 3), 40, np.uint8)])
    return Service(gallery, cameras={"door": str(door), "hall": str(empty)}, backoff=(0.2, 0.5))  # the app starts it


def test_preview_then_enrol_the_faces_shown(service):
    from fastapi.testclient import TestClient

    from facerec.serve.app import create_app

    with TestClient(create_app(service)) as client:
        _preview_then_enrol(client, service)


def _preview_then_enrol(client, service):
    from facerec.identity.gallery import Gallery

    shown = client.post("/v1/people/Eileen_Collins/from-camera/door?preview=true&seconds=3&faces=4")
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert 1 <= len(body["faces"]) <= 4 and all(f["picture"].startswith("data:image/jpeg;base64,") for f in body["faces"])
    assert all(f["problem"] == "" for f in body["faces"])
    assert "Eileen_Collins" not in dict(Gallery.load(service.gallery.path).people())  # a preview enrols nothing
    done = client.post(f"/v1/people/Eileen_Collins/from-camera/door?capture={body['capture']}")
    assert done.status_code == 200, done.text
    assert done.json()["added"] == len(body["faces"])
    assert dict(Gallery.load(service.gallery.path).people())["Eileen_Collins"] == len(body["faces"])
    again = client.post(f"/v1/people/Eileen_Collins/from-camera/door?capture={body['capture']}")
    assert again.status_code == 404  # a preview is enrolled once
    nobody = client.post("/v1/people/Someone/from-camera/hall?seconds=2")
    assert nobody.status_code == 422 and "no face seen" in nobody.json()["detail"]
    assert client.post("/v1/people/Someone/from-camera/garage").status_code == 404
    assert client.post("/v1/people/Someone/from-camera/door?seconds=99").status_code in (400, 422)


@pytest.mark.slow
def test_the_page_films_shows_and_enrols(service, tmp_path):
    from chromium import Chromium, find_chromium
    from serving import running

    from facerec.identity.gallery import Gallery

    binary = find_chromium()
    if binary is None:
        pytest.skip("no Chromium found (Debian: apt-get install chromium)")
    browser = Chromium(binary)
    try:
        with running(service) as url:
            browser.goto(f"{url}/")
            card = "document.querySelector('#camera-door')"
            assert browser.wait_for(f"!!{card}", timeout=10)
            browser.evaluate(f"{card}.querySelector('.film-name').value = 'Eileen_Collins';"
                             f"{card}.querySelector('.film-record').click()")
            assert browser.wait_for(f"{card}.querySelectorAll('.filmed img').length > 0 && "
                                    f"[...{card}.querySelectorAll('.filmed img')].every(i => i.naturalWidth > 0)",
                                    timeout=30), browser.evaluate(f"{card}.querySelector('.film-msg').textContent")
            assert "Eileen_Collins" not in dict(Gallery.load(service.gallery.path).people())
            shots = os.environ.get("FACEREC_SCREENSHOTS")
            if shots:
                browser.screenshot(os.path.join(shots, "serve_page_filmed.png"))
            browser.evaluate(f"{card}.querySelector('.film-enrol').click()")
            assert browser.wait_for("!!document.querySelector('tr[data-person=\"Eileen_Collins\"]')", timeout=20), \
                browser.evaluate(f"{card}.querySelector('.film-msg').textContent")
            assert "Eileen_Collins" in dict(Gallery.load(service.gallery.path).people())
            if shots:
                browser.screenshot(os.path.join(shots, "serve_page_filmed_enrolled.png"))
    finally:
        browser.close()


def test_an_uploaded_photo_too_blurred_to_help_is_refused_with_its_reason(tmp_path, default_embedder):
    import io

    import cv2
    from fastapi.testclient import TestClient
    from PIL import Image

    from facerec.serve.app import create_app
    from facerec.serve.service import Service

    svc = Service(make_gallery(tmp_path / "people.npz", default_embedder))
    blurred = io.BytesIO()
    Image.fromarray(cv2.GaussianBlur(astronaut(), (0, 0), 4)).save(blurred, format="JPEG")
    with TestClient(create_app(svc)) as client:
        r = client.post("/v1/people/Eileen_Collins", files=[("photos", ("eileen.jpg", blurred.getvalue(), "image/jpeg"))])
    assert r.status_code == 422 and "too blurred" in r.json()["detail"], r.text
