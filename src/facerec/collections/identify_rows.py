"""Every face of a photo collection named (Recognizer.recognize_files) as rows: for the results file,
the sorted folders and the page."""
from __future__ import annotations

from .results_file import box_cell


def identify_rows(results) -> list[dict]:
    """Rows from Recognizer.recognize_files results."""
    rows = []
    for res in results:
        if res.error or not res.faces:
            rows.append({"path": res.path, "face": None, "box": None, "name": None, "probability": None,
                         "distance": None, "masked": None, "soft": None, "note": res.error or "no face found"})
            continue
        for i, f in enumerate(res.faces):
            rows.append({"path": res.path, "face": i, "box": box_cell(f.box), "name": f.name,
                         "probability": round(f.probability, 4), "distance": round(f.distance, 4),
                         "masked": f.masked, "soft": f.soft, "note": ""})
    return rows
