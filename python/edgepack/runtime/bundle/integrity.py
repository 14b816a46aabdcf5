"""The load path's integrity check, kept off the critical path where it can be. Stored zip members are read
straight from a memory map of the bundle: engines that load from a buffer (ncnn, LiteRT) get the bytes
without any file being written; for the others a member is written out and hashed in the same pass (each
chunk is hashed while it is in cache). Weight-only files are hashed in a thread while the engine parses them
(hashlib releases the GIL for the whole buffer). Session waits for that check before returning: a corrupt file
is refused on load, naming the file (the sha256 guards against corruption in transit; the manifest is not
signed). Files with structure an engine parses are checked against the zip's CRC-32 before the engine sees
them, in the same pass that copies them: accidental corruption, the kind that crashes parsers (2 of 150
randomly damaged .mnn files segfaulted MNN 3.6.1), is refused there, at a third of sha256's cost (4.7 vs
12.5 ms for 14 MB here; on a Pi 4, which lacks the ARMv8 crypto extensions, far less than that); their
sha256 then runs in the thread too. A bundle altered on purpose can carry a matching CRC and a matching
sha256 alike, so hashing first would protect nothing more."""

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


def corrupt_crc(bundle: Path, rel: str, got: int, want: int) -> BundleError:
    return BundleError(f"bundle '{bundle}': artifact file '{rel}' is corrupt (CRC-32 {got:08x}, the zip says "
                       f"{want:08x}); re-copy or repack the bundle")


def corrupt(bundle: Path, rel: str, got: str, want: str) -> BundleError:
    return BundleError(f"bundle '{bundle}': artifact file '{rel}' is corrupt (sha256 {got[:12]}..., the manifest "
                       f"says {want[:12]}...); re-copy or repack the bundle")


class FileSpan:
    """Bytes [offset, offset + size) of a file, handed to an engine that reads a weights blob piece by piece
    (ncnn's DataReader): read with pread, as the engine itself reads a file, so the pages are copied by the
    kernel instead of being faulted into a mapping one by one (about 2.7 ms per 14 MB here)."""

    def __init__(self, path: Path, offset: int, size: int) -> None:
        self.path, self.offset, self.size = path, offset, size

    def __len__(self) -> int:
        return self.size


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


def _write_new(dest: Path, data: memoryview, crc: bool = False) -> int | None:
    """Write data to dest (through a .part name, so a failure leaves no partial file under the real name);
    with crc=True in the same pass as its CRC-32, which it returns."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    if crc:
        got = write_crc(data, tmp)
    else:
        with open(tmp, "wb") as f:
            f.write(data)
        got = None
    tmp.replace(dest)
    return got


def write_crc(data: memoryview, dest: Path) -> int:
    """Write data to a new file dest and return its CRC-32: one pass, each chunk checked while it is in cache
    (a kernel copy followed by a pass over the mapped bundle read the bytes twice)."""
    crc = 0
    with open(dest, "wb") as f:
        for pos in range(0, len(data), _CHUNK):
            chunk = data[pos:pos + _CHUNK]
            crc = zlib.crc32(chunk, crc)
            f.write(chunk)
            chunk.release()
    return crc


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
    """sha256 of (label, file or bytes, offset, size, expected) spans, computed in a thread; wait() raises on
    mismatch."""

    def __init__(self, bundle: Path, jobs: list[tuple[str, Path | bytes, int, int, str]]) -> None:
        self._bundle = bundle
        self._jobs = jobs
        self._error: BundleError | None = None
        self._thread = threading.Thread(target=self._run, name="edgepack-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for rel, path, offset, size, want in self._jobs:
            try:
                got = (hashlib.sha256(path).hexdigest() if isinstance(path, bytes)
                       else sha256_span(path, offset, size))
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


# Files that hold only weights (no structure an engine parses) may be read by the engine unchecked while their
# sha256 runs: a corrupt weight blob gives wrong numbers or a clean load error, never a parser crash. Files
# with structure (ncnn .param, .mnn and .tflite flatbuffers) pass the zip's CRC-32 before any engine sees them.
DEFERRABLE_ROLES = frozenset({"bin"})


def extract_and_check(bundle: Path, zf: zipfile.ZipFile | None, entry: dict, root: Path | Callable[[], Path],
                      sync_check,
                      whole: Callable[[], memoryview | None] | None = None,
                      memory_roles: frozenset[str] = frozenset()) -> tuple[dict[str, Any], PendingCheck]:
    """Make the artifact's files ready for an engine and check them. Returns ({role: bytes-like} for the
    roles handed over in memory, the pending check of the weight files).

    Directory bundles: files are used in place (root is the bundle). Zip bundles: stored members of a role
    in memory_roles are served from the bundle's memory map (whole() gives it): weight files (DEFERRABLE_ROLES)
    as a read-only view hashed in a thread, other files as bytes hashed now. Other stored members are
    written under root while they are hashed. Members that are not stored (a re-zipped bundle) go through
    sync_check(rel, want, root) instead. For a zip, root may be a function that makes the directory: it is
    called only when a file has to be written (an engine that takes every file from memory needs none)."""
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
    where = root if callable(root) else (lambda: root)
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
            sync_check(rel, want, where())
            continue
        offset, size = span
        if offset + size > len(view):
            raise BundleError(f"bundle '{bundle}': artifact file '{rel}' is truncated; re-copy or repack the bundle")
        data = view[offset:offset + size]
        role = role_of.get(rel)
        if rel in deferrable:  # hashed in the thread while the engine reads it
            jobs.append((rel, bundle, offset, size, want))
            if role in memory_roles:
                memory[role] = FileSpan(bundle, offset, size)  # the engine reads the bundle file itself
                data.release()
            else:
                _write_new(where() / rel, data)
                data.release()
            continue
        # structure: the CRC-32 now, in the pass that copies it; the sha256 of the copy the engine gets (the
        # bytes, or the file written) in the thread
        if role in memory_roles:
            got_bytes = bytes(data)
            data.release()
            got = zlib.crc32(got_bytes)
            job = (rel, got_bytes, 0, size, want)
        else:
            got = _write_new(where() / rel, data, crc=True)
            data.release()
            job = (rel, where() / rel, 0, size, want)
        if got != info.CRC:
            raise corrupt_crc(bundle, rel, got, info.CRC)
        if role in memory_roles:
            memory[role] = got_bytes
        jobs.append(job)
