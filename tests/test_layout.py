"""The layout the code promises: cli/ parses arguments and prints, the scripts only call cli/."""
import ast

from conftest import REPO

# Packages that do the work (images, arrays, models): a module that imports one is doing more
# than parsing and printing.
WORKERS = {"numpy", "cv2", "PIL", "sklearn", "scipy", "tensorflow", "keras", "joblib", "mtcnn", "ai_edge_litert"}


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield ("." * node.level) + (node.module or "")
    return tree


def test_cli_modules_only_parse_and_print():
    files = sorted((REPO / "src" / "facerec" / "cli").glob("*.py"))
    assert len(files) >= 5
    for f in files:
        mods = list(_imports(f))
        assert not {m.split(".")[0] for m in mods} & WORKERS, f"{f.name} imports {sorted(set(mods) & WORKERS)}"
        tree = ast.parse(f.read_text())
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)], f"{f.name} defines a class"
        # No loops over arrays of numbers: arithmetic beyond counting and formatting lives in the library.
        ops = [n for n in ast.walk(tree) if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Mult, ast.Div, ast.Pow))]
        assert not ops, f"{f.name} line {ops[0].lineno} computes something"


def test_scripts_are_thin_callers():
    for script in ("align/align_dataset.py", "classify/classifier.py", "realtime/real_time_face_recognition.py"):
        mods = set(_imports(REPO / script))
        assert mods <= {"sys", "facerec.cli.align", "facerec.cli.classify", "facerec.cli.realtime"}, (script, mods)
