"""The load path's integrity check, partly off the critical path: stored zip members are copied out by the
kernel (copy_file_range) and hashed straight from a memory map of the bundle; weight-only files are hashed in
a thread while the engine parses the copy (hashlib releases the GIL for the whole buffer, so the check runs
beside an engine load that holds the GIL). Session waits for it before returning: a corrupt file is refused
on load, naming the file (the sha256 guards against corruption in transit; the manifest is not signed)."""

from __future__ import annotations

import hashlib
import mmap
import os
import struct
import threading
import zipfile
import zlib
from pathlib import Path

from edgepack.errors import BundleError

# Everything Python's zipfile raises on a damaged or hostile archive (a bad central directory, a name that is
# not UTF-8, an unknown compression method, encryption, a truncated deflate stream...): all mean "corrupt".
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError,
              RuntimeError, zlib.error, struct.error)

_LOCAL_HEADER = 30  # fixed part of a zip local file header; name and extra field follow


def corrupt(bundle: Path, rel: str, got: str, want: str) -> BundleError:
    return BundleError(f"bundle '{bundle}': artifact file '{rel}' is corrupt (sha256 {got[:12]}..., the manifest "
                       f"says {want[:12]}...); re-copy or repack the bundle")


def stored_span(path: Path, info: zipfile.ZipInfo) -> tuple[int, int] | None:
    """(offset, size) of a stored, unencrypted member's bytes in the zip file; None for other members."""
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
        return None
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        head = f.read(_LOCAL_HEADER)
    if len(head) != _LOCAL_HEADER or head[:4] != b"PK\x03\x04":
        raise BundleError(f"bundle '{path}': the zip entry of '{info.filename}' is damaged; re-copy or repack it")
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    return info.header_offset + _LOCAL_HEADER + name_len + extra_len, info.file_size


def copy_span(src: Path, offset: int, size: int, dest: Path, rel: str) -> None:
    """Copy size bytes at offset of src into a new file dest (in the kernel where it can)."""
    with open(src, "rb") as fi, open(dest, "wb") as fo:
        done = 0
        if hasattr(os, "copy_file_range"):
            try:
                while done < size:
                    n = os.copy_file_range(fi.fileno(), fo.fileno(), size - done, offset + done)
                    if n == 0:
                        break
                    done += n
            except OSError:  # another file system or kernel without it: plain copy below
                fo.seek(0)
                fo.truncate()
                done = 0
        if done == 0 and size:
            fi.seek(offset)
            remaining = size
            while remaining and (chunk := fi.read(min(1 << 20, remaining))):
                fo.write(chunk)
                remaining -= len(chunk)
            done = size - remaining
    if done != size:
        raise BundleError(f"bundle '{src}': artifact file '{rel}' is truncated ({done} of {size} bytes); re-copy or "
                          "repack the bundle")


def sha256_span(path: Path, offset: int, size: int) -> str:
    h = hashlib.sha256()
    if size:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            view = memoryview(mm)
            try:
                h.update(view[offset:offset + size])  # one call: the GIL is released for all of it
            finally:
                view.release()
    return h.hexdigest()


class PendingCheck:
    """sha256 of (label, file, offset, size, expected) spans, computed in a thread; wait() raises on mismatch."""

    def __init__(self, bundle: Path, jobs: list[tuple[str, Path, int, int, str]]) -> None:
        self._bundle = bundle
        self._jobs = jobs
        self._error: BundleError | None = None
        self._thread = threading.Thread(target=self._run, name="edgepack-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for rel, path, offset, size, want in self._jobs:
            try:
                got = sha256_span(path, offset, size)
            except (OSError, ValueError) as e:
                self._error = BundleError(f"bundle '{self._bundle}': cannot read artifact file '{rel}' ({e}); re-copy "
                                          "or repack the bundle")
                return
            if got != want:
                self._error = corrupt(self._bundle, rel, got, want)
                return

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


def locate(bundle: Path, root: Path, rel: str) -> Path:
    """A directory bundle's file: present, and inside the bundle even after resolving links."""
    path = root / rel
    if not path.is_file():
        raise BundleError(f"bundle '{bundle}': artifact file '{rel}' is missing; the bundle is incomplete, "
                          "copy or repack it")
    if not path.resolve().is_relative_to(root.resolve()):
        raise BundleError(f"bundle '{bundle}': artifact file '{rel}' points outside the bundle; refusing it")
    return path


# Files that hold only weights (no structure an engine parses) may be checked while the engine reads them: a
# corrupt weight blob gives wrong numbers or a clean load error, never a parser crash. Files with structure
# (ncnn .param, .mnn and .tflite flatbuffers) are checked before any engine sees them.
DEFERRABLE_ROLES = frozenset({"bin"})


def extract_and_check(bundle: Path, zf: zipfile.ZipFile | None, entry: dict, root: Path,
                      sync_check) -> PendingCheck:
    """Put the artifact's files under root (zip) or find them there (directory), check the structure files
    now and start the checks of weight files (DEFERRABLE_ROLES) in a thread. Members that are not stored
    (a re-zipped bundle) go through sync_check(rel, want, root) instead."""
    deferrable = {entry["files"][r] for r in DEFERRABLE_ROLES if r in entry["files"]}
    jobs = []
    for rel, want in entry["sha256"].items():
        if zf is None:
            path = locate(bundle, root, rel)
            job = (rel, path, 0, path.stat().st_size, want)
        else:
            try:
                info = zf.getinfo(rel)
            except KeyError:
                raise BundleError(f"bundle '{bundle}': artifact file '{rel}' is missing from the zip; the bundle "
                                  "is incomplete, repack it") from None
            span = stored_span(bundle, info)
            if span is None:
                sync_check(rel, want, root)
                continue
            dest = root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            copy_span(bundle, span[0], span[1], dest, rel)
            job = (rel, bundle, span[0], span[1], want)
        if rel in deferrable:
            jobs.append(job)
        else:
            got = sha256_span(*job[1:4])
            if got != want:
                raise corrupt(bundle, rel, got, want)
    return PendingCheck(bundle, jobs)
