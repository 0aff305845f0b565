"""One name rule everywhere (issue 23, finding 13): one form per name (NFC, trimmed), bounded,
no invisible or control characters, not Unknown in any case, one person per name whatever its
case or Unicode form, in the command line, the files and the service alike."""
import numpy as np
import pytest

from facerec import FacerecError
from facerec.identity.protocol import person_name

NFC, NFD = "Jos\u00e9", "Jose\u0301"


@pytest.mark.parametrize("bad", ["", "   ", "x" * 10_000, "a/b", "..", "unknown", "UNKNOWN", "Unknown",
                                 "Al\u200bice", "Bob\u202e", "Eve\x07", "Ann\ud800"])
def test_names_that_cannot_be_a_persons_are_refused_in_one_line(bad):
    with pytest.raises(FacerecError) as err:
        person_name(bad)
    assert "cannot be a person's name" in str(err.value) and "\n" not in str(err.value)
    assert len(str(err.value)) < 300


def test_a_name_takes_one_form():
    assert person_name(f"  {NFD} ") == NFC
    assert person_name("Zoë Li") == "Zoë Li"


def _gallery():
    from facerec.identity.gallery import Gallery

    return Gallery({"name": "test", "key": "k", "dim": 8}, 8)


def test_one_person_per_name_whatever_its_case_or_unicode_form(tmp_path):
    g = _gallery()
    e = np.eye(8, dtype=np.float32)
    g.add(NFC, e[:1], ["a.jpg"])
    g.add(NFD, e[1:2], ["b.jpg"])
    g.add_many(["alice", "Alice", " ALICE "], e[2:5], ["c.jpg", "d.jpg", "e.jpg"])
    assert g.people() == [(NFC, 2), ("alice", 3)]
    assert g.forget(["ALICE"]) == ["alice"] and g.people() == [(NFC, 2)]
    g.save(tmp_path / "g.npz")
    assert type(g).load(tmp_path / "g.npz").people() == [(NFC, 2)]


def test_the_service_forgets_a_person_by_any_form_of_the_name(tmp_path):
    from facerec.serve.live_gallery import LiveGallery

    path = tmp_path / "g.npz"
    g = _gallery()
    g.add(NFC, np.eye(8, dtype=np.float32)[:1], ["a.jpg"])
    g.save(path)
    live = LiveGallery(path)
    assert live.add(NFD, np.eye(8, dtype=np.float32)[1:2], ["b.jpg"])["name"] == NFC
    live.forget(NFD)
    assert live.people() == []
    with pytest.raises(FacerecError, match="cannot be a person's name"):
        live.forget("Ann\ud800")


def test_an_older_gallery_with_names_the_rule_now_refuses_still_loads_and_forgets_the_right_one(tmp_path):
    """Names an older facerec kept as typed (decomposed, spaces around, alice beside Alice) load,
    and each is found by its own spelling first (review of issue 23's name rule)."""
    from facerec.identity.gallery import Gallery

    g = _gallery()
    e = np.eye(8, dtype=np.float32)
    g.embeddings, g.masked_embeddings = e[:4], np.zeros((4, 8), np.float32)
    g.labels, g.sources = [NFD, " Bob ", "alice", "Alice"], ["a", "b", "c", "d"]
    g.save(tmp_path / "old.npz")
    back = Gallery.load(tmp_path / "old.npz")
    assert sorted(n for n, _ in back.people()) == sorted([NFC, "Bob", "alice", "Alice"])
    assert back.forget(["Alice"]) == ["Alice"] and ("alice", 1) in back.people()
    assert person_name("\u0639\u0644\u06cc\u200c\u0631\u0636\u0627") == "\u0639\u0644\u06cc\u200c\u0631\u0636\u0627"  # ZWNJ
