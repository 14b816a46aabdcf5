"""The edgepack source tree a board's runtime wheel is built from.

In a checkout (an editable or in-tree run) that is the checkout. An installed edgepack carries the rest of
its sources: the Python package itself, the C++ core as `edgepack/cpp/` and the build files as
`edgepack/_src/` (pyproject.toml, the top-level CMakeLists.txt, README.md; CMakeLists.txt installs both), so
the tree is assembled from them, once per installed version and content, in edgepack's cache directory
(`$XDG_CACHE_HOME/edgepack/source/`, default ~/.cache): a stable path keeps later builds incremental."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import edgepack
from edgepack import __version__
from edgepack.errors import InputError

BUILD_FILES = ("pyproject.toml", "CMakeLists.txt", "README.md")
# what an installed package holds that is not source: the compiled module, bytecode, and the carried trees
_NOT_SOURCE = ("__pycache__", "cpp", "_src")


class SourceTreeError(InputError):
    """The installed edgepack cannot be turned into a buildable source tree."""


def checkout_root() -> Path | None:
    """The edgepack checkout this edgepack is imported from (an editable or in-tree run), else None."""
    root = Path(edgepack.__file__).resolve().parent.parent.parent
    if (root / "pyproject.toml").is_file() and (root / "cpp").is_dir() and (root / "python" / "edgepack").is_dir():
        return root
    return None


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "edgepack"


def _is_source(rel: Path) -> bool:
    if rel.parts[0] in _NOT_SOURCE or "__pycache__" in rel.parts or rel.suffix == ".pyc":
        return False
    return not (len(rel.parts) == 1 and rel.name.startswith("_core.") and rel.suffix in (".so", ".pyd"))


def _plan(pkg: Path) -> list[tuple[Path, str]]:
    """(file to copy, its path in the tree), sorted: the package's sources, the core, the build files."""
    files = [(f, "python/edgepack/" + f.relative_to(pkg).as_posix()) for f in sorted(pkg.rglob("*"))
             if f.is_file() and _is_source(f.relative_to(pkg))]
    files += [(f, "cpp/" + f.relative_to(pkg / "cpp").as_posix()) for f in sorted((pkg / "cpp").rglob("*"))
              if f.is_file() and "__pycache__" not in f.parts]
    files += [(pkg / "_src" / name, name) for name in BUILD_FILES]
    return files


def source_tree() -> tuple[Path, str]:
    """(a directory `pip wheel` builds edgepack from, what it is) — the checkout, or the assembled tree."""
    root = checkout_root()
    if root is not None:
        return root, f"the checkout {root}"
    pkg = Path(edgepack.__file__).resolve().parent
    missing = [p for p in [pkg / "cpp" / "CMakeLists.txt", *(pkg / "_src" / n for n in BUILD_FILES)] if not p.is_file()]
    if missing:
        raise SourceTreeError(f"this edgepack install lacks its build files ({missing[0]}), so it cannot build a "
                              "runtime wheel; reinstall edgepack (pip install --force-reinstall edgepack) "
                              "or pass --runtime-wheel FILE")
    plan = _plan(pkg)
    digest = hashlib.sha256()
    for src, rel in plan:
        digest.update(rel.encode() + b"\0" + hashlib.sha256(src.read_bytes()).digest())
    tree = cache_dir() / "source" / f"{__version__}-{digest.hexdigest()[:16]}"
    if (tree / ".complete").is_file():
        return tree, f"the sources of the installed edgepack ({tree})"
    try:
        tree.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{tree.name}.tmp-", dir=tree.parent))
    except OSError as e:
        raise SourceTreeError(f"cannot write edgepack's cache '{tree.parent}' ({e.strerror}); set XDG_CACHE_HOME "
                              "to a writable directory") from e
    try:
        for src, rel in plan:
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, tmp / rel)
        (tmp / ".complete").write_text(__version__ + "\n")
        try:
            tmp.rename(tree)
        except OSError:
            if not (tree / ".complete").is_file():  # not a concurrent run that finished first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return tree, f"the sources of the installed edgepack ({tree})"
