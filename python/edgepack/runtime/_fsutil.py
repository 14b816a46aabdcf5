"""Atomic output: build in a temporary sibling directory, rename into place at the end.

Three guarantees on top of the rename (issue 14):
- one writer per target: a second `convert -o same` while the first runs fails at once instead of both
  reporting success with one run's artifacts gone (an advisory lock on `.<name>.lock` beside the target);
- staging left by a killed run (`.<name>.tmp-<pid>-*`, `.<name>.old-<pid>`) is removed by the next run, but
  only ours (that name pattern, owned by this user) and only when that pid is no longer alive;
- the target may not contain an input (`-o . --force` inside the model's folder must not delete the model)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from edgepack.errors import OutputError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the rename is still atomic
    fcntl = None  # type: ignore[assignment]


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(parent: Path, pattern: str) -> list[Path]:
    """Remove entries of `parent` whose name matches `pattern` (a regex with a `pid` group), that this user
    owns and whose pid is dead. Returns what was removed."""
    rx = re.compile(pattern)
    removed = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for p in entries:
        m = rx.fullmatch(p.name)
        if not m or pid_alive(int(m.group("pid"))):
            continue
        try:
            if p.lstat().st_uid != os.getuid():
                continue
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
            removed.append(p)
        except OSError:
            continue
    return removed


@contextlib.contextmanager
def _locked(lock_path: Path, target: Path) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise OutputError(f"cannot write to '{lock_path.parent}' ({e.strerror}); choose a writable -o") from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(f"another edgepack run is writing '{target}' right now; wait for it or choose "
                              "another -o") from None
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.unlink(lock_path)  # while still holding the lock: a waiter retries on a fresh file
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_dir(target: str | Path, force: bool = False, protect: Sequence[str | Path] = ()) -> Iterator[Path]:
    """Yield a fresh temporary directory next to `target`; on success it replaces `target`, on failure it
    is removed and `target` is untouched. `protect`: inputs that must not be inside `target`."""
    target = Path(os.path.abspath(target))  # 'a/..' normalised: the rename below acts on what it names
    real = target.resolve()
    for p in protect:
        src = Path(p).resolve()
        if src == real or real in src.parents:
            raise OutputError(f"output '{target}' contains the input '{src}'; replacing it would delete the "
                              "input: choose another -o")
    cwd = Path.cwd().resolve()
    if cwd == real or real in cwd.parents:
        raise OutputError(f"output '{target}' is the current directory (or holds it), which edgepack would have "
                          "to replace: choose a new directory for -o")
    if target.exists() and not force and (not target.is_dir() or any(target.iterdir())):
        raise OutputError(f"output '{target}' already exists; pass --force to replace it or choose another -o")
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot write to '{parent}' ({e.strerror}); choose a writable -o") from e
    name = re.escape(target.name)
    with _locked(parent / f".{target.name}.lock", target):
        remove_stale(parent, rf"\.{name}\.(tmp|old)-(?P<pid>\d+)(-.*)?")
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=parent))
        except OSError as e:
            raise OutputError(f"cannot write to '{parent}' ({e.strerror}); choose a writable -o") from e
        try:
            yield tmp
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        old = None
        if target.exists():
            old = parent / f".{target.name}.old-{os.getpid()}"
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-{os.getpid()}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_swept: set[str] = set()


def private_prefix(kind: str) -> str:
    """The name prefix of a temporary file or directory of this process, `edgepack-<kind>-<pid>-`. Work dirs that
    killed runs left in $TMPDIR under that scheme (any kind; dead pid; this user) are removed first."""
    tmp = tempfile.gettempdir()
    if tmp not in _swept:  # once per process and folder: what a killed run left goes when the next one starts
        remove_stale(Path(tmp), r"edgepack-(?:[a-z0-9]+-)+?(?P<pid>\d+)-.+")
        _swept.add(tmp)
    return f"edgepack-{kind}-{os.getpid()}-"


@contextlib.contextmanager
def private_tempdir(kind: str) -> Iterator[Path]:
    """A temporary directory `$TMPDIR/edgepack-<kind>-<pid>-*`, removed on exit (see private_prefix)."""
    with tempfile.TemporaryDirectory(prefix=private_prefix(kind)) as d:
        yield Path(d)
