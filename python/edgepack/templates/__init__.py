"""App project generators: `edgepack template TARGET BUNDLE -o DIR`.

Each target is one subpackage (``templates/android``, ``templates/ios``) holding its template files as a
real tree plus a ``generate.py`` with ``generate(bundle_path, options) -> dict[str, bytes]`` (relative POSIX
path -> file content) and ``next_step(out_dir) -> str`` (what the user does next).
``render.write_project`` writes that mapping atomically and deterministically.
Adding a target is one subpackage plus one line in TARGETS."""

from __future__ import annotations

import importlib
from types import ModuleType

from edgepack.errors import InputError

# target -> module with generate(bundle_path, options) -> {relpath: bytes} and next_step(out_dir) -> str
TARGETS: dict[str, str] = {
    "android": "edgepack.templates.android.generate",
    "ios": "edgepack.templates.ios.generate",
}


def get_generator(target: str) -> ModuleType:
    if target not in TARGETS:
        raise InputError(f"unknown template target '{target}'; choose from {', '.join(TARGETS)}")
    try:
        mod = importlib.import_module(TARGETS[target])
    except ModuleNotFoundError as e:
        if e.name and e.name.startswith("edgepack.templates"):
            raise InputError(f"template target '{target}' is not part of this edgepack build") from e
        raise
    return mod
