"""Template trees -> project files, deterministically; and the atomic project writer.

A template is a folder of real files (a reviewer opens ``app/build.gradle.kts`` and sees a Gradle file) with
``{{name}}`` placeholders. ``render_tree`` fills them from a table of values; a placeholder with no value is
an error (a template typo must not ship as literal braces). Files named ``*.tmpl`` lose the suffix; other files
are copied byte for byte (binary files are never substituted). ``{{path_name}}`` in a *path* is substituted too
(e.g. the Kotlin package directory)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from edgepack.errors import OutputError
from edgepack.runtime._fsutil import atomic_dir

_PLACEHOLDER = re.compile(r"\{\{([a-zA-Z_][a-zA-Z0-9_]*)\}\}")
EXECUTABLE = ("gradlew",)  # written with mode 0755, as is any file starting with "#!"; everything else 0644


def substitute(text: str, values: Mapping[str, str], where: str = "template") -> str:
    def one(m: re.Match) -> str:
        key = m.group(1)
        if key not in values:
            raise KeyError(f"{where}: no value for placeholder {{{{{key}}}}}")
        return str(values[key])

    return _PLACEHOLDER.sub(one, text)


def render_tree(root: Path, values: Mapping[str, str]) -> dict[str, bytes]:
    """Every file under `root` -> {relative path with placeholders filled: content}. `*.tmpl` files are
    rendered as UTF-8 text; others are copied as they are."""
    files: dict[str, bytes] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if "__pycache__" in rel:
            continue
        if rel.endswith(".tmpl"):
            rel = rel[: -len(".tmpl")]
            data = substitute(path.read_text(encoding="utf-8"), values, rel).encode("utf-8")
        else:
            data = path.read_bytes()
        files[substitute(rel, values, rel)] = data
    return files


def write_project(files: Mapping[str, bytes], out: str | Path, force: bool = False) -> Path:
    """Write `files` under `out` atomically (built beside it, renamed at the end). A non-empty `out` is
    refused without `force`. Entries are written in sorted order with fixed modes, so the same mapping gives
    the same tree, byte for byte."""
    out = Path(out)
    for rel in files:
        parts = rel.split("/")
        if rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise OutputError(f"refusing to write '{rel}' outside the project")  # a generator bug, not the user's
    with atomic_dir(out, force=force) as tmp:
        for rel in sorted(files):
            dest = tmp / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(files[rel])
            mode = 0o755 if dest.name in EXECUTABLE or files[rel].startswith(b"#!") else 0o644
            os.chmod(dest, mode)
    return out
