"""The edgepack runtime wheel for a board: a wheel the user passes (--runtime-wheel), else one built from the
edgepack source tree (source_tree.py: the checkout, or the tree an installed edgepack carries). A board like
this machine (same CPU architecture and Python, glibc not older) gets `pip wheel` of the tree; any other board
gets the cross build (cross_build.py, also behind tools/build_wheels.py: zig, manylinux_2_17, plain armv8-a on
aarch64)."""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from edgepack.deploy.source_tree import source_tree
from edgepack.deploy.targets import Target, host_platform
from edgepack.errors import InputError
from edgepack.runtime._fsutil import private_prefix

_BUILD_TIMEOUT = 3600


class RuntimeBuildError(InputError):
    """The runtime wheel for the board could not be found or built."""


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
    root, what = source_tree()
    if _like_this_machine(target):
        return _native_build(root, what, dest, log), f"built here (pip wheel of {what})"
    return _cross_build(root, what, target, dest, log), f"cross-built with zig from {what}"


def _like_this_machine(target: Target) -> bool:
    libc, version = platform.libc_ver()
    try:
        host_glibc = tuple(int(p) for p in version.split(".")[:2]) if libc == "glibc" else (99, 0)
    except ValueError:
        return False
    return (target.platform == host_platform() and target.py == sys.version_info[:2]
            and target.glibc >= host_glibc)


def _native_build(root: Path, what: str, dest: Path, log) -> Path:
    log(f"building the runtime wheel from {what} (pip wheel --no-deps)")
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


def _cross_build(root: Path, what: str, target: Target, dest: Path, log) -> Path:
    from edgepack.deploy import cross_build

    if not cross_build.PLATFORMS[target.platform].lp64:
        raise RuntimeBuildError(f"the runtime wheel for {target.platform} needs the board's own Python headers "
                                "(4-byte long and pointers): build it with `python -m edgepack.deploy.cross_build "
                                f"--platform {target.platform} --python {target.python} --python-include DIR -o dist` "
                                "(DIR: include/python3.X of Debian's libpython3.X-dev:armhf, its multiarch "
                                "pyconfig.h copied in) and pass --runtime-wheel FILE")
    log(f"cross-building the runtime wheel for {target.platform} cp{target.python.replace('.', '')} from {what} "
        "(zig; the first build takes minutes)")
    out_dir = dest / ".runtime-build"
    try:
        wheel = cross_build.build_one(target.platform, target.python, out_dir, root=root,
                                      work=root / "build" / "wheels", quiet=True, log=log)
    except subprocess.CalledProcessError as e:
        raise RuntimeBuildError(f"cross build of the runtime failed ({' '.join(map(str, e.cmd[:4]))}... exit "
                                f"{e.returncode}); run `python -m edgepack.deploy.cross_build --platform "
                                f"{target.platform} --python {target.python} -o DIR` to see the log") from None
    out = dest / Path(wheel).name
    shutil.move(str(wheel), out)
    shutil.rmtree(out_dir, ignore_errors=True)
    why = fits(out, target)
    if why:
        raise RuntimeBuildError(f"the cross-built runtime wheel does not fit the board: {why}")
    return out
