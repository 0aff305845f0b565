"""The web page at / in a real headless Chromium: a camera's named appearance shows up live, and
the gallery can be enrolled into and forgotten from.  Skips when no Chromium is installed
(Debian: apt-get install chromium; .ci/run installs it where it can)."""
import os
import shutil
import time

import pytest

pytest.importorskip("fastapi")

from chromium import Chromium, find_chromium  # noqa: E402
from faces import astronaut  # noqa: E402
from serving import make_clip, make_gallery, running  # noqa: E402

APPEARED = """(() => {
  const e = document.querySelector('.appearance[data-name="Barack_Obama"][data-camera="door"]');
  return e ? Number(e.dataset.shownAt) : null; })()"""


@pytest.fixture
def browser():
    binary = find_chromium()
    if binary is None:
        pytest.skip("no Chromium found (Debian: apt-get install chromium)")
    b = Chromium(binary)
    yield b
    b.close()


@pytest.mark.slow
def test_page_shows_a_camera_appearance_within_5_s_and_manages_the_gallery(browser, tmp_path, default_embedder):
    from PIL import Image

    from facerec.identity.gallery import Gallery
    from facerec.serve.service import Service

    gallery = make_gallery(tmp_path / "people.npz", default_embedder)
    clip = make_clip(tmp_path / "recorded.mp4")
    camera = tmp_path / "door.mp4"  # not there yet: the page is open before the face appears
    shots = os.environ.get("FACEREC_SCREENSHOTS")
    service = Service(gallery, cameras={"door": str(camera)}, backoff=(0.2, 0.5))
    with running(service) as url:
        browser.goto(f"{url}/")
        assert browser.wait_for("document.getElementById('live').dataset.state === 'open'", timeout=10)
        shutil.copy(clip, tmp_path / "partial.mp4")
        t0 = time.time()
        os.replace(tmp_path / "partial.mp4", camera)  # the camera starts sending frames with Obama in them
        shown = browser.wait_for(APPEARED, timeout=15)
        assert shown is not None, browser.evaluate("document.getElementById('cameras').innerText")
        events = service.bus.recent(100)
        emitted = min(e["time"] for e in events if e["name"] == "Barack_Obama" and e["type"] == "appeared")
        print(f"\nnamed appearance on the page {shown - t0:.2f} s after the face reached the camera "
              f"({shown - emitted:.3f} s after the service published it)")
        assert shown - t0 < 5.0
        assert browser.wait_for("document.querySelector('.appearance[data-name=\"Barack_Obama\"] img')"
                                ".naturalWidth > 0", timeout=5)  # the face thumbnail loaded
        if shots:
            browser.screenshot(os.path.join(shots, "serve_page_camera.png"))

        # Enrol someone by uploading a photo through the page's form, then forget them.
        photo = tmp_path / "eileen.jpg"
        Image.fromarray(astronaut()).save(photo)
        browser.evaluate("document.getElementById('ename').value = 'Eileen_Collins'")
        browser.set_files("#ephotos", [photo])
        browser.evaluate("document.getElementById('ebutton').click()")
        assert browser.wait_for("!!document.querySelector('tr[data-person=\"Eileen_Collins\"]')", timeout=15), \
            browser.evaluate("document.getElementById('emsg').textContent")
        assert "Eileen_Collins" in dict(Gallery.load(gallery).people())
        if shots:
            browser.screenshot(os.path.join(shots, "serve_page_enrolled.png"))
        browser.evaluate("window.confirm = () => true; document.querySelector("
                         "'tr[data-person=\"Eileen_Collins\"] button').click()")
        assert browser.wait_for("!document.querySelector('tr[data-person=\"Eileen_Collins\"]')", timeout=10)
        assert "Eileen_Collins" not in dict(Gallery.load(gallery).people())
