"""Write a wheel (PEP 427) reproducibly: entries sorted, one fixed timestamp, fixed permissions, the
.dist-info directory last with RECORD (sha256 + size of every other file) as its final entry. Same inputs ->
byte-identical file. Written to a temporary name beside the target and renamed when complete."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

from edgepack.errors import OutputError

# zip cannot store dates before 1980; any fixed value works, this one matches the bundle writer
EPOCH = (2020, 1, 1, 0, 0, 0)
# model files barely compress and stored members install fastest; text is deflated
_STORED_SUFFIXES = {".bin", ".mnn", ".tflite", ".onnx", ".xml", ".param"}


def record_hash(data: bytes) -> str:
    """RECORD's hash field: sha256, urlsafe base64 without padding (PEP 376 / 427)."""
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def write_wheel(out: Path, files: dict[str, bytes | Path], dist_info: str, force: bool = True) -> Path:
    """Write `files` (archive path -> bytes or a source file) plus `<dist_info>/RECORD` to the wheel `out`.
    Paths under `dist_info` go last, as PEP 427 recommends (installers read the metadata from the end)."""
    record_name = f"{dist_info}/RECORD"
    if record_name in files:
        raise ValueError("RECORD is computed here; do not pass it")
    order = sorted(files, key=lambda p: (p.startswith(dist_info + "/"), p))
    out = Path(out)
    if out.exists() and (out.is_dir() or not force):
        raise OutputError(f"'{out}' already exists; remove it or choose another -o")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.tmp-", dir=out.parent)
    except OSError as e:
        raise OutputError(f"cannot write to '{out.parent}' ({e.strerror}); choose a writable -o") from e
    try:
        records = []
        with os.fdopen(fd, "wb") as raw:
            with zipfile.ZipFile(raw, "w") as zf:
                for name in order:
                    src = files[name]
                    data = src if isinstance(src, bytes) else Path(src).read_bytes()
                    _add(zf, name, data)
                    records.append(f"{name},{record_hash(data)},{len(data)}")
                records.append(f"{record_name},,")
                _add(zf, record_name, ("\n".join(records) + "\n").encode())
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return out


def _add(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, EPOCH)
    info.external_attr = 0o644 << 16
    info.create_system = 3  # unix, whatever this machine is: the bytes must not depend on the build host
    info.compress_type = zipfile.ZIP_STORED if Path(name).suffix in _STORED_SUFFIXES else zipfile.ZIP_DEFLATED
    zf.writestr(info, data, compresslevel=9 if info.compress_type == zipfile.ZIP_DEFLATED else None)
