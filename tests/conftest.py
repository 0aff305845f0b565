import ast
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
    from facerec.tensorflow_loader import import_tensorflow

    return import_tensorflow()


@pytest.fixture(scope="session")
def default_embedder(_private_cache):
    from facerec import load_embedder

    return load_embedder("default")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _using_shared_data(module_path) -> set:
    """Names of the functions (tests and fixtures) of a test module that call shared()."""
    tree = ast.parse(Path(module_path).read_text())
    return {f.name for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
            and any(isinstance(n, ast.Call) and getattr(n.func, "id", None) == "shared" for n in ast.walk(f))}


def pytest_collection_modifyitems(config, items):
    """shared_data on every test that reads ../shared/data, itself or through a fixture of its module."""
    seen: dict = {}
    for item in items:
        path = str(item.fspath)
        if path not in seen:
            seen[path] = _using_shared_data(path)
        names = seen[path]
        if getattr(item, "originalname", item.name) in names or names & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.shared_data)
