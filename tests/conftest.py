import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("FACEREC_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared(*parts) -> Path:
    """A path under ../shared/data, skipping the test when that data is not on this machine."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Tests build the default model into their own cache, never the user's."""
    cache = tmp_path_factory.mktemp("facerec-cache")
    old = os.environ.get("FACEREC_CACHE")
    os.environ["FACEREC_CACHE"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("FACEREC_CACHE", None)
    else:
        os.environ["FACEREC_CACHE"] = old


@pytest.fixture(scope="session")
def tf():
    from facerec.tfutil import import_tensorflow

    return import_tensorflow()


@pytest.fixture(scope="session")
def default_embedder(_private_cache):
    from facerec import load_embedder

    return load_embedder("default")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
