"""The edgepack runtime wheel for a board: a wheel the user passes (--runtime-wheel), else one built from the
edgepack source tree this edgepack runs from. A board like this machine (same CPU architecture and Python,
glibc not older) gets `pip wheel` of the tree; any other board gets the cross build of the board issue
(`tools/build_wheels.py`: zig, manylinux_2_17, plain armv8-a on aarch64), imported and called as a function."""

from __future__ import annotations

import importlib.util
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

import edgepack
from edgepack.deploy.targets import Target, host_platform
from edgepack.errors import InputError
from edgepack.runtime._fsutil import private_prefix

_BUILD_TIMEOUT = 3600


class RuntimeBuildError(InputError):
    """The runtime wheel for the board could not be found or built."""


def source_root() -> Path | None:
    """The edgepack checkout this edgepack is imported from (an editable or in-tree run), else None."""
    root = Path(edgepack.__file__).resolve().parent.parent.parent
    if (root / "pyproject.toml").is_file() and (root / "cpp").is_dir() and (root / "python" / "edgepack").is_dir():
        return root
    return None


def fits(wheel: Path, target: Target) -> str | None:
    """Why `wheel` is not an edgepack runtime wheel installable on `target` (None: it is)."""
    try:
        name, _, _, tags = parse_wheel_filename(wheel.name)
    except InvalidWheelFilename as e:
        return f"'{wheel.name}' is not a wheel file name ({e})"
    if name != "edgepack":
        return f"'{wheel.name}' is not an edgepack wheel"
    plats = set(target.platform_tags())
    interpreters = {target.cp, "py3", f"py{target.python.replace('.', '')}"}
    if not any(t.platform in plats and t.interpreter in interpreters and t.abi in (target.cp, "abi3", "none")
               for t in tags):
        return f"'{wheel.name}' does not install on {target.describe()} (its tags: {', '.join(map(str, tags))})"
    return None


def obtain_runtime_wheel(target: Target, dest: Path, given: Path | None = None, log=print) -> tuple[Path, str]:
    """Put the runtime wheel for `target` into dest; returns (path, how it was obtained)."""
    dest.mkdir(parents=True, exist_ok=True)
    if given is not None:
        given = Path(given)
        if not given.is_file():
            raise InputError(f"--runtime-wheel '{given}' does not exist; pass a wheel file")
        why = fits(given, target)
        if why:
            raise InputError(f"--runtime-wheel: {why}; pass one built for the board")
        out = dest / given.name
        shutil.copyfile(given, out)
        return out, "given"
    root = source_root()
    if root is None:
        raise RuntimeBuildError(f"no edgepack runtime wheel for {target.describe()}: this edgepack is not run from "
                                "a source checkout, so it cannot build one; pass --runtime-wheel FILE (built with "
                                "tools/build_wheels.py in an edgepack checkout)")
    if _like_this_machine(target):
        return _native_build(root, dest, log), "built here (pip wheel of the source tree)"
    return _cross_build(root, target, dest, log), "cross-built (tools/build_wheels.py)"


def _like_this_machine(target: Target) -> bool:
    libc, version = platform.libc_ver()
    try:
        host_glibc = tuple(int(p) for p in version.split(".")[:2]) if libc == "glibc" else (99, 0)
    except ValueError:
        return False
    return (target.platform == host_platform() and target.py == sys.version_info[:2]
            and target.glibc >= host_glibc)


def _native_build(root: Path, dest: Path, log) -> Path:
    log(f"building the runtime wheel from {root} (pip wheel --no-deps)")
    tmp = Path(tempfile.mkdtemp(prefix=private_prefix("runtime-wheel")))
    try:
        cmd = [sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check", "-q", "--no-deps",
               "--no-build-isolation", "-w", str(tmp), str(root)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_BUILD_TIMEOUT)
        if proc.returncode != 0:
            tail = " | ".join(ln for ln in (proc.stderr or proc.stdout).strip().splitlines()[-3:])
            raise RuntimeBuildError(f"building the runtime wheel failed: {tail[:600]}; run `pip wheel --no-deps "
                                    f"{root}` to see the whole log")
        (built,) = tmp.glob("edgepack-*.whl")
        out = dest / built.name
        shutil.move(str(built), out)
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _cross_build(root: Path, target: Target, dest: Path, log) -> Path:
    script = root / "tools" / "build_wheels.py"
    if not script.is_file():
        raise RuntimeBuildError(f"cross-building the runtime for {target.describe()} needs {script} (the board "
                                "build); pass --runtime-wheel FILE instead")
    spec = importlib.util.spec_from_file_location("edgepack_build_wheels", script)
    module = sys.modules.get(spec.name)
    if module is None:
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up there
        spec.loader.exec_module(module)
    log(f"cross-building the runtime wheel for {target.platform} cp{target.python.replace('.', '')} "
        "(tools/build_wheels.py; the first zig build takes minutes)")
    out_dir = dest / ".runtime-build"
    try:
        wheel = module.build_one(target.platform, target.python, out_dir, work=root / "build" / "wheels",
                                 quiet=True)
    except SystemExit as e:  # the builder reports its own user errors this way
        raise RuntimeBuildError(f"cross build of the runtime failed: {e}") from None
    except subprocess.CalledProcessError as e:
        raise RuntimeBuildError(f"cross build of the runtime failed ({' '.join(map(str, e.cmd[:4]))}... exit "
                                f"{e.returncode}); run python {script} --platform {target.platform} --python "
                                f"{target.python} -o DIR to see the log") from None
    out = dest / Path(wheel).name
    shutil.move(str(wheel), out)
    shutil.rmtree(out_dir, ignore_errors=True)
    why = fits(out, target)
    if why:
        raise RuntimeBuildError(f"the cross-built runtime wheel does not fit the board: {why}")
    return out
