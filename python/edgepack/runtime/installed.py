"""Models installed as wheels (`edgepack wheel`): `edgepack.load("mymodel")` finds the bundle through the
`edgepack.models` entry point group (name -> a function returning the installed bundle directory)."""

from __future__ import annotations

import re
from importlib.metadata import entry_points
from pathlib import Path

from edgepack.errors import BundleError

GROUP = "edgepack.models"


def resolve(path: str | Path) -> str | Path:
    """`path` itself when it exists or looks like a path; else the bundle of the installed model so named."""
    text = str(path)
    if Path(path).exists() or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", text) or text.endswith(".edgepack"):
        return path
    want = re.sub(r"[-_.]+", "-", text).lower()  # PEP 503, as the wheel named it
    found = [ep for ep in entry_points(group=GROUP) if re.sub(r"[-_.]+", "-", ep.name).lower() == want]
    if not found:
        names = sorted({ep.name for ep in entry_points(group=GROUP)})
        raise BundleError(f"no bundle '{text}' and no installed model of that name "
                          f"({'installed: ' + ', '.join(names) if names else 'none installed'}); pass a bundle "
                          "path, or pip install the model's wheel (edgepack wheel)")
    return Path(found[0].load()())
