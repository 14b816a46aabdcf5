"""Open a bundle (a .edgepack zip, or a directory holding manifest.json), validate its manifest and hand out
artifacts whose every file was sha256-checked on the way. Zip members an engine can take from memory are
served from a read-only memory map of the bundle; others are extracted (only the files the manifest names,
hashed while they are written) into a private temporary directory removed on close()."""

from __future__ import annotations

import hashlib
import json
import mmap
import shutil
import tempfile
import weakref
import zipfile
from pathlib import Path

from edgepack.errors import BundleError
from edgepack.runtime._fsutil import private_prefix
from edgepack.runtime.artifact import Artifact
from edgepack.runtime.bundle.integrity import ZIP_ERRORS, PendingCheck, corrupt, extract_and_check, locate
from edgepack.runtime.bundle.manifest import MANIFEST, Manifest, check_relpath, validate

MAX_MANIFEST_BYTES = 16 << 20
_CHUNK = 1 << 20


class Bundle:
    """A validated bundle. `manifest` is its Manifest; `artifact(engine, precision)` returns a checked
    Artifact ready for an engine. Use as a context manager, or call close()."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self._tmp: str | None = None
        self._finalizer = None
        self._map: mmap.mmap | None = None
        self._views: list[memoryview] = []
        if not self.path.exists():
            raise BundleError(f"bundle '{self.path}' not found; check the path (bundles are made by edgepack pack)")
        if not (self.path.is_dir() or self.path.is_file()):  # /dev/zero, a FIFO, a socket: never read
            raise BundleError(f"'{self.path}' is not a regular file or directory; pass a .edgepack file made by "
                              "edgepack pack")
        if self.path.is_dir():
            mpath = self.path / MANIFEST
            if not mpath.is_file() or mpath.is_symlink():
                raise BundleError(f"directory '{self.path}' has no {MANIFEST}; pass a .edgepack file or an "
                                  "unzipped bundle")
            raw = mpath.read_bytes()[:MAX_MANIFEST_BYTES + 1]
        else:
            try:
                self._zip = zipfile.ZipFile(self.path)
            except ZIP_ERRORS as e:
                raise BundleError(f"'{self.path}' is not a bundle (not a zip file: {e}); pass a .edgepack file "
                                  "made by edgepack pack") from e
            try:
                info = self._zip.getinfo(MANIFEST)
            except KeyError:
                self.close()
                raise BundleError(f"'{self.path}' has no {MANIFEST}; it is a zip but not an edgepack bundle") from None
            if info.file_size > MAX_MANIFEST_BYTES:
                self.close()
                raise BundleError(f"'{self.path}': {MANIFEST} is {info.file_size} bytes, too large to be a manifest")
            try:
                raw = self._zip.read(info)
            except ZIP_ERRORS as e:
                self.close()
                raise BundleError(f"'{self.path}': {MANIFEST} is corrupt in the zip ({e}); re-copy or repack the "
                                  "bundle") from e
        if len(raw) > MAX_MANIFEST_BYTES:
            raise BundleError(f"'{self.path}': {MANIFEST} is too large to be a manifest")
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            self.close()
            raise BundleError(f"'{self.path}': {MANIFEST} is not valid JSON ({e}); repack the bundle") from e
        try:
            self.manifest = Manifest(validate(doc, f"{self.path.name}/{MANIFEST}"))
        except BundleError:
            self.close()
            raise

    def artifact(self, engine: str, precision: str) -> Artifact:
        """The artifact's files, each sha256-checked now (a mismatch or a missing file raises BundleError
        naming it). Directory bundles are used in place; zip members are extracted first."""
        entry = self.manifest.artifact_entry(engine, precision)
        root = self._root_for_zip() if self._zip is not None else str(self.path)
        for rel, want in entry["sha256"].items():
            self._checked_file(check_relpath(rel), want, Path(root))
        return self.manifest.to_artifact(entry, root)

    def artifact_deferred(self, engine: str, precision: str,
                          memory_roles: frozenset[str] = frozenset()) -> tuple[Artifact, PendingCheck]:
        """As artifact(), but the sha256 checks of weight files run in a thread: load the engine meanwhile,
        then call check.wait() (raises BundleError naming a corrupt file) before using it. Files of the
        roles in memory_roles (those the engine can load from a buffer) come in `Artifact.memory` instead
        of on disk when the bundle is a zip; they are valid until close_archive()."""
        entry = self.manifest.artifact_entry(engine, precision)
        for rel in entry["sha256"]:
            check_relpath(rel)
        if self._zip is None:
            memory, check = extract_and_check(self.path, None, entry, self.path, self._checked_file)
            return self.manifest.to_artifact(entry, str(self.path)), check
        memory, check = extract_and_check(self.path, self._zip, entry, lambda: Path(self._root_for_zip()),
                                          self._checked_file, self._whole, memory_roles)
        self._views += [v for v in memory.values() if isinstance(v, memoryview)]  # released on close_archive
        # every file in memory: no directory was made, and the artifact's names resolve nowhere (below a file)
        art = self.manifest.to_artifact(entry, self._tmp if self._tmp is not None else str(self.path / "in-memory"))
        art.memory = memory
        return art, check

    def _whole(self) -> memoryview | None:
        """The whole bundle file, mapped read-only once (stored members are read in place); None where the
        file cannot be mapped (then members are extracted through the zip reader)."""
        if self._map is None:
            try:
                with open(self.path, "rb") as f:
                    self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):
                return None
            self._views.insert(0, memoryview(self._map))
        return self._views[0]

    def read_file(self, rel: str, size: int, want: str, limit: int) -> bytes:
        """A file the manifest names beside the artifacts (the reference samples), read whole: refused unless
        it is exactly `size` bytes (at most `limit`) and matches the sha256 `want`."""
        check_relpath(rel)
        if size > limit:
            raise BundleError(f"bundle '{self.path}': '{rel}' is declared as {size} bytes, over the {limit}-byte "
                              "limit; repack the bundle with edgepack pack")
        if self._zip is None:
            path = locate(self.path, self.path, rel)
            with open(path, "rb") as f:
                data = f.read(limit + 1)
        else:
            try:
                info = self._zip.getinfo(rel)
            except KeyError:
                raise BundleError(f"bundle '{self.path}': '{rel}' is missing from the zip; the bundle is "
                                  "incomplete, repack it") from None
            if info.file_size > limit:
                raise BundleError(f"bundle '{self.path}': '{rel}' is {info.file_size} bytes, over the {limit}-byte "
                                  "limit; repack the bundle with edgepack pack")
            try:
                with self._zip.open(info) as src:
                    data = src.read(limit + 1)
            except ZIP_ERRORS as e:
                raise BundleError(f"bundle '{self.path}': '{rel}' is corrupt ({e}); re-copy or repack the "
                                  "bundle") from e
        if len(data) != size:
            raise BundleError(f"bundle '{self.path}': '{rel}' is {len(data)} bytes, the manifest says {size}; "
                              "re-copy or repack the bundle")
        self._check_digest(rel, want, hashlib.sha256(data).hexdigest())
        return data

    def verify(self) -> list[str]:
        """Check every artifact's files without keeping them; returns problems (empty = all good)."""
        problems = []
        for entry in self.manifest.artifacts:
            try:
                if self._zip is not None:
                    for rel, want in entry["sha256"].items():
                        self._hash_zip_member(rel, want, None)
                else:
                    for rel, want in entry["sha256"].items():
                        self._checked_file(rel, want, self.path)
            except BundleError as e:
                problems.append(str(e))
        refs = self.manifest.references
        if refs is not None:
            from edgepack.runtime.bundle.references import MAX_REFERENCE_BYTES

            try:
                self.read_file(refs["file"], refs["size_bytes"], refs["sha256"], MAX_REFERENCE_BYTES)
            except BundleError as e:
                problems.append(str(e))
        return problems

    def _root_for_zip(self) -> str:
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix=private_prefix("bundle"))
            self._finalizer = weakref.finalize(self, shutil.rmtree, self._tmp, True)
        return self._tmp

    def _checked_file(self, rel: str, want: str, root: Path) -> None:
        if self._zip is not None:
            dest = root / rel
            if dest.is_file():  # extracted and checked earlier by this Bundle
                return
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(dest.name + ".part")
            with open(tmp, "wb") as f:
                self._hash_zip_member(rel, want, f)
            tmp.replace(dest)
            return
        path = locate(self.path, root, rel)
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
        self._check_digest(rel, want, h.hexdigest())

    def _hash_zip_member(self, rel: str, want: str, sink) -> None:
        try:
            info = self._zip.getinfo(rel)
        except KeyError:
            raise BundleError(f"bundle '{self.path}': artifact file '{rel}' is missing from the zip; the bundle is "
                              "incomplete, repack it") from None
        limit = self._declared_bytes(rel)
        if info.file_size > limit:  # a "model.tflite" inflating to 2 GiB out of a 2 MB bundle: never written
            raise BundleError(f"bundle '{self.path}': artifact file '{rel}' inflates to {info.file_size} bytes, more "
                              f"than the manifest's {limit} for its artifact; the bundle is corrupt or hostile")
        h = hashlib.sha256()
        done = 0
        try:
            with self._zip.open(info) as src:
                while chunk := src.read(_CHUNK):
                    done += len(chunk)
                    if done > limit:
                        raise BundleError(f"bundle '{self.path}': artifact file '{rel}' inflates past the manifest's "
                                          f"{limit} bytes; the bundle is corrupt or hostile")
                    h.update(chunk)
                    if sink is not None:
                        sink.write(chunk)
        except ZIP_ERRORS as e:  # includes zip's own CRC check
            raise BundleError(f"bundle '{self.path}': artifact file '{rel}' is corrupt ({e}); re-copy or repack "
                              "the bundle") from e
        self._check_digest(rel, want, h.hexdigest())

    def _declared_bytes(self, rel: str) -> int:
        """The most bytes `rel` may hold: its artifact's declared size_bytes (the manifest is validated)."""
        for a in self.manifest.doc["artifacts"]:
            if rel in a["sha256"]:
                return int(a["size_bytes"])
        return 0

    def _check_digest(self, rel: str, want: str, got: str) -> None:
        if got != want:
            raise corrupt(self.path, rel, got, want)

    def close_archive(self) -> None:
        """Close the zip and its memory map (views handed out in Artifact.memory become invalid) but keep
        extracted files (engines may map them) until close() or garbage collection."""
        if self._zip is not None:
            self._zip.close()
            self._zip = None
        views, self._views = self._views, []
        try:
            for v in reversed(views):  # slices first, the whole-file view last
                v.release()
            if self._map is not None:
                self._map.close()
        except BufferError:  # someone still holds a buffer of the map: it is closed when they let go
            pass
        self._map = None

    def close(self) -> None:
        self.close_archive()
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
