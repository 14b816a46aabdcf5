"""The load path's integrity check, kept off the critical path where it can be. Stored zip members are read
straight from a memory map of the bundle: engines that load from a buffer (ncnn, LiteRT) get the bytes
without any file being written; for the others a member is written out and hashed in the same pass (each
chunk is hashed while it is in cache). Weight-only files are hashed in a thread while the engine parses them
(hashlib releases the GIL for the whole buffer). Session waits for that check before returning: a corrupt file
is refused on load, naming the file (the sha256 guards against corruption in transit; the manifest is not
signed). Files with structure an engine parses are hashed before the engine sees them."""

from __future__ import annotations

import hashlib
import mmap
import struct
import threading
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgepack.errors import BundleError

# Everything Python's zipfile raises on a damaged or hostile archive (a bad central directory, a name that is
# not UTF-8, an unknown compression method, encryption, a truncated deflate stream...): all mean "corrupt".
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError,
              RuntimeError, zlib.error, struct.error)

_LOCAL_HEADER = 30  # fixed part of a zip local file header; name and extra field follow
_CHUNK = 256 << 10  # fits in L2: hashed and written before it leaves the cache


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


def _write_new(dest: Path, data: memoryview, hashed: bool = False) -> str:
    """Write data to dest (through a .part name, so a failure leaves no partial file under the real name);
    with hashed=True in the same pass as the sha256, which it returns."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    if hashed:
        got = write_hashed(data, tmp)
    else:
        with open(tmp, "wb") as f:
            f.write(data)
        got = ""
    tmp.replace(dest)
    return got


def write_hashed(data: memoryview, dest: Path) -> str:
    """Write data to a new file dest and return its sha256: one pass, each chunk hashed while it is in cache
    (a kernel copy followed by a hash of the mapped bundle read the bytes twice)."""
    h = hashlib.sha256()
    with open(dest, "wb") as f:
        for pos in range(0, len(data), _CHUNK):
            chunk = data[pos:pos + _CHUNK]
            h.update(chunk)
            f.write(chunk)
            chunk.release()
    return h.hexdigest()


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


def extract_and_check(bundle: Path, zf: zipfile.ZipFile | None, entry: dict, root: Path, sync_check,
                      whole: Callable[[], memoryview | None] | None = None,
                      memory_roles: frozenset[str] = frozenset()) -> tuple[dict[str, Any], PendingCheck]:
    """Make the artifact's files ready for an engine and check them. Returns ({role: bytes-like} for the
    roles handed over in memory, the pending check of the weight files).

    Directory bundles: files are used in place (root is the bundle). Zip bundles: stored members of a role
    in memory_roles are served from the bundle's memory map (whole() gives it): weight files (DEFERRABLE_ROLES)
    as a read-only view hashed in a thread, other files as bytes hashed now. Other stored members are
    written under root while they are hashed. Members that are not stored (a re-zipped bundle) go through
    sync_check(rel, want, root) instead."""
    deferrable = {entry["files"][r] for r in DEFERRABLE_ROLES if r in entry["files"]}
    memory: dict[str, Any] = {}
    jobs: list[tuple[str, Path, int, int, str]] = []
    try:
        _prepare(bundle, zf, entry, root, sync_check, whole, memory_roles, deferrable, memory, jobs)
    except BaseException:
        for v in memory.values():
            if isinstance(v, memoryview):
                v.release()
        raise
    return memory, PendingCheck(bundle, jobs)


def _prepare(bundle, zf, entry, root, sync_check, whole, memory_roles, deferrable, memory, jobs) -> None:
    role_of = {rel: role for role, rel in entry["files"].items()}
    for rel, want in entry["sha256"].items():
        if zf is None:
            path = locate(bundle, root, rel)
            job = (rel, path, 0, path.stat().st_size, want)
            if rel in deferrable:
                jobs.append(job)
            elif (got := sha256_span(*job[1:4])) != want:
                raise corrupt(bundle, rel, got, want)
            continue
        try:
            info = zf.getinfo(rel)
        except KeyError:
            raise BundleError(f"bundle '{bundle}': artifact file '{rel}' is missing from the zip; the bundle "
                              "is incomplete, repack it") from None
        span = stored_span(bundle, info)
        view = whole() if span is not None and whole is not None else None
        if view is None:
            sync_check(rel, want, root)
            continue
        offset, size = span
        if offset + size > len(view):
            raise BundleError(f"bundle '{bundle}': artifact file '{rel}' is truncated; re-copy or repack the bundle")
        data = view[offset:offset + size]
        role = role_of.get(rel)
        if rel in deferrable:  # hashed in the thread while the engine reads it
            jobs.append((rel, bundle, offset, size, want))
            if role in memory_roles:
                memory[role] = data  # the engine reads the map itself
            else:
                _write_new(root / rel, data)
                data.release()
            continue
        if role in memory_roles:
            memory[role] = got_bytes = bytes(data)  # the bytes the engine gets are the bytes hashed
            data.release()
            got = hashlib.sha256(got_bytes).hexdigest()
        else:
            got = _write_new(root / rel, data, hashed=True)
            data.release()
        if got != want:
            memory.pop(role, None)
            raise corrupt(bundle, rel, got, want)
