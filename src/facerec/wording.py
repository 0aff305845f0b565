"""Counts in messages, in words a person would write: "1 photo", "3 photos", "1 person", "2 people"."""
from __future__ import annotations

_IRREGULAR = {"person": "people", "face that matches": "faces that match", "new copy": "new copies"}


def counted(n: int, noun: str) -> str:
    """n and the noun, plural unless n is 1."""
    return f"{n} {noun if n == 1 else _IRREGULAR.get(noun, noun + 's')}"


def brief(message, limit: int = 120) -> str:
    """Another library's error message cut to fit one line: its first line, up to its first sentence's
    end when that is within limit, else at the last whole word before limit, with '...'."""
    text = " ".join(str(message).strip().splitlines()[0].split()) if str(message).strip() else ""
    end = text.find(". ")
    if 0 < end < limit:
        return text[:end + 1]
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "..."
