"""Write a bundle zip atomically: a temporary file beside the target, renamed into place when complete.
Model files are stored uncompressed (weights barely compress, and stored members can be read or mapped
straight from the zip); the manifest is deflated."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

from edgepack.errors import OutputError
from edgepack.runtime.bundle.manifest import MANIFEST, check_relpath, validate

# A fixed timestamp makes two packs of the same inputs byte-identical zips (apart from the manifest).
_EPOCH = (2020, 1, 1, 0, 0, 0)


def write_bundle(out: str | Path, manifest: dict, files: dict[str, Path], force: bool = False) -> Path:
    """Write `manifest` and `files` (bundle-relative path -> source file) to the zip `out`."""
    out = Path(out).absolute()
    validate(manifest, "the manifest being written")
    if out.exists() and (out.is_dir() or not force):
        raise OutputError(f"output '{out}' already exists; pass --force to replace it or choose another -o")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.tmp-", dir=out.parent)
    except OSError as e:
        raise OutputError(f"cannot write to '{out.parent}' ({e.strerror}); choose a writable -o") from e
    try:
        with os.fdopen(fd, "wb") as raw:
            with zipfile.ZipFile(raw, "w") as zf:
                info = zipfile.ZipInfo(MANIFEST, _EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, json.dumps(manifest, indent=2))
                for rel, src in sorted(files.items()):
                    info = zipfile.ZipInfo(check_relpath(rel), _EPOCH)
                    info.compress_type = zipfile.ZIP_STORED
                    info.external_attr = 0o644 << 16
                    with open(src, "rb") as f, zf.open(info, "w") as dst:
                        while chunk := f.read(1 << 20):
                            dst.write(chunk)
            raw.flush()
            os.fsync(raw.fileno())  # the rename must not publish a bundle whose bytes are still in flight
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a bundle is meant to be shared
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return out
