"""The sweep files shipped with sharpgen (package data ``studies/*.toml``); importing this needs no torch.

>>> {"sample_complexity", "minimizers"} <= set(study_names())
True
"""
from __future__ import annotations

from pathlib import Path

STUDIES_DIR = Path(__file__).resolve().parent / "studies"


def study_names() -> tuple[str, ...]:
    """Names (file stems) of the shipped sweep files, sorted."""
    return tuple(sorted(p.stem for p in STUDIES_DIR.glob("*.toml")))


def study_path(name: str) -> Path | None:
    """The shipped sweep file called ``name``, or None."""
    return STUDIES_DIR / f"{name}.toml" if name in study_names() else None
