"""The layout the code promises, checked on the source (run alone: pytest tests/test_layout.py).

- cli/ parses arguments and prints; the scripts only call cli/.
- No import cycles between facerec's modules, counting imports inside functions too.
- No module imports another's private name (``from .x import _y``) or reaches for one (``x._y``).
- Every name imported from a facerec module exists there (a moved module leaves no stale import).
- No function longer than MAX_LINES, except those named in LONG with their reason.
- Video is opened in one place (video/sources.py); the service's cameras go through it.
"""
import ast
import importlib

import pytest

from conftest import REPO

SRC = REPO / "src"
# Packages that do the work (images, arrays, models): a module that imports one is doing more
# than parsing and printing.
WORKERS = {"numpy", "cv2", "PIL", "sklearn", "scipy", "tensorflow", "keras", "joblib", "mtcnn", "ai_edge_litert"}
MAX_LINES = 60
LONG = {}  # "module.function": why it stays longer than MAX_LINES


def _modules():
    """{dotted name: path} of every module under src/facerec."""
    out = {}
    for path in sorted((SRC / "facerec").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield ("." * node.level) + (node.module or "")
    return tree


def _resolved(module: str, path, node: ast.ImportFrom) -> str:
    """The absolute module a from-import names."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _facerec_imports(module: str, path):
    """(target module, imported name or None, line) for each import of a facerec module."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            target = _resolved(module, path, node)
            if target.split(".")[0] != "facerec":
                continue
            for alias in node.names:
                yield target, alias.name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "facerec":
                    yield alias.name, None, node.lineno


def _graph() -> dict:
    graph = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for target, name, _ in _facerec_imports(module, path):
            sub = f"{target}.{name}" if name else None
            dest = sub if sub in MODULES else target
            if dest in MODULES and dest != module:
                graph[module].add(dest)
    return graph


def _cycles(graph: dict) -> list:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    # A package's __init__ importing its own modules is how a package exposes its names, not a cycle.
    graph = {m: {d for d in deps if not (MODULES[m].name == "__init__.py" and d.startswith(m + "."))}
             for m, deps in _graph().items()}
    assert _cycles(graph) == []


def test_no_private_names_across_modules():
    found = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        aliases = {}
        for target, name, line in _facerec_imports(module, path):
            if name and name.startswith("_") and not name.startswith("__"):
                found.append(f"{module}:{line} imports {target}.{name}")
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = _resolved(module, path, node)
                for a in node.names:
                    if f"{target}.{a.name}" in MODULES:
                        aliases[a.asname or a.name] = f"{target}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in MODULES and a.asname:
                        aliases[a.asname] = a.name
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases \
                    and node.attr.startswith("_") and not node.attr.startswith("__"):
                found.append(f"{module}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert found == []


def test_every_imported_name_exists():
    missing = []
    for module, path in MODULES.items():
        for target, name, line in _facerec_imports(module, path):
            if target not in MODULES:
                missing.append(f"{module}:{line} imports missing module {target}")
            elif name and f"{target}.{name}" not in MODULES and name != "*":
                try:
                    mod = importlib.import_module(target)
                except ImportError as exc:  # an optional package (FastAPI, Ray) not installed
                    pytest.skip(f"cannot import {target}: {exc}")
                if not hasattr(mod, name):
                    missing.append(f"{module}:{line} imports {target}.{name}, which does not exist")
    assert missing == []


def test_functions_are_short():
    long = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_LINES and f"{module}.{node.name}" not in LONG:
                    long.append(f"{module}.{node.name}: {lines} lines")
    assert long == []


def test_video_is_opened_in_one_place():
    openers = [m for m, p in MODULES.items() if "VideoCapture(" in p.read_text()]
    assert openers == ["facerec.video.sources"]


def test_cli_modules_only_parse_and_print():
    files = sorted((SRC / "facerec" / "cli").glob("*.py"))
    assert len(files) >= 5
    for f in files:
        mods = list(_imports(f))
        assert not {m.split(".")[0] for m in mods} & WORKERS, f"{f.name} imports {sorted(set(mods) & WORKERS)}"
        tree = ast.parse(f.read_text())
        # No classes, but argparse's parser itself (its errors made one line): parsing, nothing else.
        classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)
                   and [ast.unparse(b) for b in n.bases] != ["argparse.ArgumentParser"]]
        assert not classes, f"{f.name} defines a class"
        # No loops over arrays of numbers: arithmetic beyond counting and formatting lives in the library.
        ops = [n for n in ast.walk(tree) if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Mult, ast.Div, ast.Pow))]
        assert not ops, f"{f.name} line {ops[0].lineno} computes something"


def test_scripts_are_thin_callers():
    for script in ("align/align_dataset.py", "classify/classifier.py", "realtime/real_time_face_recognition.py"):
        mods = set(_imports(REPO / script))
        assert mods <= {"sys", "facerec.cli.align", "facerec.cli.classify", "facerec.cli.realtime"}, (script, mods)


def test_the_checks_can_fail():
    """The cycle finder finds a cycle, and the private-name rule has something to look at."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]
    assert len(MODULES) > 40 and any(_graph().values())
