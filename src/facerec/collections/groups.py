"""The groups a collection's faces sort into (people, clusters, the rest), for folders and the page."""
from __future__ import annotations

from pathlib import Path

from ..identity.protocol import UNKNOWN

UNMATCHED = "Unmatched"  # the folder and page heading of faces that match no one


def group_of(row, column: str) -> str | None:
    """The folder a face row sorts into: its name, "cluster-N", Unmatched; None for no face."""
    if row.get("face") is None:
        return None
    if column == "name":
        return row.get("name") or None
    value = row.get("cluster")
    if value in (None, ""):
        return None if row.get("note", "").startswith("named ") else UNMATCHED
    return f"cluster-{int(value):03d}"


def page_groups(rows, column: str) -> list:
    """(heading, faces, is_unknown) for html_page.write_page: people or clusters, the rest last."""
    groups: dict = {}
    for r in rows:
        g = group_of(r, column)
        if g is None:
            continue
        tip = f"{Path(r['path']).name}, face {r['face']}"
        if r.get("distance") is not None:
            tip += f", distance {float(r['distance']):.3f}"
        groups.setdefault(g, []).append((r["path"], r["box"], tip))
    rest = {UNKNOWN, UNMATCHED}
    order = sorted((g for g in groups if g not in rest), key=lambda g: (-len(groups[g]), g))
    order += [g for g in (UNKNOWN, UNMATCHED) if g in groups]
    heading = lambda g: f"Cluster {int(g.split('-')[1])}" if g.startswith("cluster-") else g
    return [(heading(g), groups[g], g in rest) for g in order]
