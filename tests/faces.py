"""Face photos the tests make themselves from what registry packages ship."""
from __future__ import annotations

import numpy as np


def astronaut() -> np.ndarray:
    """scikit-image's astronaut (Eileen Collins, public domain): one face, 512x512 RGB."""
    from skimage import data

    return data.astronaut()


def face_crop_of_astronaut() -> np.ndarray:
    """A tighter photo of the astronaut's face region (about 250x250, like LFW)."""
    return astronaut()[0:260, 110:370].copy()


def sample(name: str) -> np.ndarray:
    """A photo from face_recognition 1.3.0's source distribution (fetched by `make install`)."""
    import pytest

    from facerec import load_image
    from facerec.samples import find

    root = find()
    if root is None:
        pytest.skip("face_recognition sample photos not fetched (run: python -m facerec.samples)")
    return load_image(root / name)
