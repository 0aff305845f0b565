"""Once the caches exist, the default path never imports TensorFlow (it costs seconds and hundreds of MB)."""
import json
import os
import subprocess
import sys

import pytest

from faces import sample

PROBE = r"""
import json, sys
import numpy as np
import facerec
from facerec.samples import find
src = find()
r = facerec.verify(str(src / "obama.jpg"), str(src / "obama2.jpg"))
e = facerec.face_encodings(facerec.load_image(src / "biden.jpg"))
rec = facerec.Recognizer.load(sys.argv[1])
names = [f.name for f in rec.recognize(facerec.load_image(src / "obama3.jpg"))]
print(json.dumps({"same": bool(r.same), "shape": list(np.shape(e)), "names": names,
                  "tensorflow": sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))}))
"""

@pytest.mark.slow
def test_default_path_imports_no_tensorflow(tmp_path, default_embedder):
    sample("obama.jpg")  # skips when the sample photos are absent
    from facerec import train_classifier
    from facerec.samples import find

    src = find()
    for person, photos in (("Barack_Obama", ["obama.jpg", "obama2.jpg"]), ("Joe_Biden", ["biden.jpg"])):
        (tmp_path / "people" / person).mkdir(parents=True)
        for p in photos:
            (tmp_path / "people" / person / p).write_bytes((src / p).read_bytes())
    train_classifier(tmp_path / "people").save(tmp_path / "people.npz")  # the caches exist from here on
    from facerec import load_image
    from facerec.demo import render_clip

    render_clip([load_image(src / "obama3.jpg")], tmp_path / "clip.mp4", seconds_each=1.0)
    p = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "people.npz")], capture_output=True, text=True,
                       timeout=300, env=dict(os.environ))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["same"] and out["shape"] == [1, 128] and out["names"][0] == "Barack_Obama"
    assert out["tensorflow"] == [], f"TensorFlow imported on the default path: {out['tensorflow'][:5]}"
    # and the commands: verify, CLASSIFY, the real-time tool
    for args in (["verify", str(src / "obama.jpg"), str(src / "biden.jpg")],
                 ["classify", "CLASSIFY", str(tmp_path / "people" / "Joe_Biden"), "default", str(tmp_path / "people.npz")],
                 ["realtime", "--source", str(tmp_path / "clip.mp4"), "--classifier", str(tmp_path / "people.npz"),
                  "--no-display"]):
        code = ("import sys, runpy; sys.argv = ['facerec'] + sys.argv[1:]\n"
                "try:\n    runpy.run_module('facerec', run_name='__main__')\nexcept SystemExit as e:\n"
                "    assert not e.code, e.code\n"
                "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
                "print('TF' if bad else 'NO-TF')")
        p = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip().splitlines()[-1] == "NO-TF", (args, p.stdout)
