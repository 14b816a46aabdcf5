"""`edgepack wheelhouse BUNDLE --platform P --python X.Y -o DIR`: an offline install set for one board.

DIR gets the model wheel (only the artifacts with an installable engine on the board; the engine extras
chosen for it), the edgepack runtime wheel for the board (runtime_wheel.py), every wheel those need for the
board's tags (download.py: pip on this workstation), and install.sh, which makes a venv on the board and
installs with --no-index. The set is resolved once more with no index before DIR is published: a wheelhouse
that would not install offline is never written. DIR is assembled beside itself and renamed into place."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from packaging.requirements import Requirement

from edgepack import __version__
from edgepack.deploy.download import check_offline, pip_download, runtime_requirements
from edgepack.deploy.glibc_needs import wheel_glibc_need
from edgepack.deploy.runtime_wheel import obtain_runtime_wheel
from edgepack.deploy.targets import Target, plan_engines
from edgepack.deploy.wheel import WheelResult, build_wheel
from edgepack.errors import InputError, OutputError


@dataclass
class WheelhouseResult:
    out: Path
    target: Target
    model: WheelResult
    engines: dict[str, str]  # bundle engine -> distribution chosen for the board
    runtime: str  # how the runtime wheel was obtained
    wheels: list[tuple[str, int]]  # file name, bytes (sorted by name)
    installs: list[str]  # name==version pip resolves offline from the set
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(size for _, size in self.wheels)


def build_wheelhouse(bundle: str | Path, out: str | Path, target: Target, name: str | None = None,
                     version: str | None = None, engines: list[str] | None = None,
                     runtime_wheel: str | Path | None = None, find_links: list[str | Path] = (),
                     force: bool = False, log=print) -> WheelhouseResult:
    out = Path(out).absolute()
    if out.exists() and not out.is_dir():
        raise OutputError(f"output '{out}' is a file; choose a directory with -o")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputError(f"output '{out}' is not empty; pass --force to replace it or choose another -o")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as e:
        raise OutputError(f"cannot write to '{out.parent}' ({e.strerror}); choose a writable -o") from e
    try:
        model = build_wheel(bundle, staging, name, version, engines, target=target)
        for w in model.warnings:
            log(f"warning: {w}")
        kept = sorted({key.rsplit("-", 1)[0] for key in model.artifacts})
        chosen = plan_engines(kept, target).chosen
        runtime, how = obtain_runtime_wheel(target, staging, Path(runtime_wheel) if runtime_wheel else None, log)
        extras, plain = set(), []
        for line in model.requires:
            req = Requirement(line)
            if req.name == "edgepack":
                extras |= set(req.extras)
            else:
                plain.append(str(req))
        needs = runtime_requirements(runtime, extras, target) + plain
        log(f"downloading for {target.describe()}: {', '.join(needs)}")
        pip_download(needs, target, staging, [Path(d) for d in find_links])
        check_glibc(staging, target)
        installs = check_offline(staging, target, f"{model.dist}=={model.version}")
        _write_install_sh(staging, model, target)
        wheels = sorted((p.name, p.stat().st_size) for p in staging.glob("*.whl"))
        os.chmod(staging, 0o755)  # mkdtemp makes 0700; the set is meant to be copied and shared
        _publish(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return WheelhouseResult(out, target, model, {e: w.dist for e, w in sorted(chosen.items())}, how, wheels,
                            [f"{i['name']}=={i['version']}" for i in installs], list(model.warnings))


def check_glibc(directory: Path, target: Target) -> None:
    """Refuse a wheel whose shared objects need a newer glibc than the board's, whatever its tag claims."""
    for wheel in sorted(directory.glob("*.whl")):
        need, where = wheel_glibc_need(wheel)
        if need is not None and need > target.glibc:
            raise InputError(f"{wheel.name} needs glibc {need[0]}.{need[1]} ({where} requires GLIBC_{need[0]}."
                             f"{need[1]}) but the board has {target.glibc[0]}.{target.glibc[1]}: it would install "
                             "there and fail at import; leave its engine out with --engines, or target a newer OS")


def _write_install_sh(staging: Path, model: WheelResult, target: Target) -> None:
    text = resources.files("edgepack.deploy").joinpath("install.sh").read_text()
    for key, value in {"@DIST@": model.dist, "@VERSION@": model.version, "@PLATFORM@": target.platform,
                       "@PYTHON@": target.python, "@EDGEPACK@": __version__}.items():
        text = text.replace(key, value)
    path = staging / "install.sh"
    path.write_text(text)
    path.chmod(0o755)


def _publish(staging: Path, out: Path) -> None:
    """Replace `out` by `staging` with renames only (the old set is kept until the new one is in place)."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.rmdir(old)
        os.replace(out, old)
    try:
        os.replace(staging, out)
    except BaseException:
        if old is not None:
            with contextlib.suppress(OSError):
                os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
