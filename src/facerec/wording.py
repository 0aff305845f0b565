"""Counts in messages, in words a person would write: "1 photo", "3 photos", "1 person", "2 people"."""
from __future__ import annotations

_IRREGULAR = {"person": "people", "face that matches": "faces that match"}


def counted(n: int, noun: str) -> str:
    """n and the noun, plural unless n is 1."""
    return f"{n} {noun if n == 1 else _IRREGULAR.get(noun, noun + 's')}"
