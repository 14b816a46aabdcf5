"""Fetch the wheels a board needs with pip, for the board's tags (not this machine's), and prove the set is
complete by resolving it again with no index at all, as install.sh will on the board.

Downloading is what `edgepack wheelhouse` was asked to do on the workstation; the board needs no network."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from edgepack.deploy.targets import Target
from edgepack.errors import InputError
from edgepack.runtime._fsutil import private_prefix

_NETWORK = re.compile(r"Failed to establish a new connection|Name or service not known|Temporary failure in name "
                      r"resolution|Network is unreachable|Connection refused|ProxyError|Max retries exceeded|"
                      r"Could not fetch URL|SSLError|timed out|No route to host", re.I)
_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")
_PIP_TIMEOUT = 3600


class DownloadError(InputError):
    """pip could not fetch or resolve the wheels for the board."""


def wheel_metadata(wheel: Path) -> tuple[list[str], set[str]]:
    """(Requires-Dist lines, Provides-Extra names) from a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as zf:
        names = [n for n in zf.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        if len(names) != 1:
            raise InputError(f"'{wheel.name}' is not a wheel (no .dist-info/METADATA); pass a wheel file")
        text = zf.read(names[0]).decode("utf-8", "replace")
    headers = text.split("\n\n", 1)[0].splitlines()
    requires = [h.split(":", 1)[1].strip() for h in headers if h.startswith("Requires-Dist:")]
    extras = {h.split(":", 1)[1].strip() for h in headers if h.startswith("Provides-Extra:")}
    return requires, extras


def runtime_requirements(runtime_wheel: Path, extras: set[str], target: Target) -> list[str]:
    """What the runtime wheel needs on `target` with `extras`: its Requires-Dist with markers evaluated for
    the board, without the markers (pip download gets plain requirements)."""
    requires, provided = wheel_metadata(runtime_wheel)
    missing = sorted(extras - provided)
    if missing:
        raise InputError(f"the runtime wheel {runtime_wheel.name} has no extra {', '.join(missing)} (it has "
                         f"{', '.join(sorted(provided)) or 'none'}); use a runtime wheel of this edgepack version")
    out = []
    for line in requires:
        try:
            req = Requirement(line)
        except InvalidRequirement as e:
            raise InputError(f"{runtime_wheel.name}: unreadable Requires-Dist {line!r} ({e})") from None
        if req.marker is not None:
            env = target.marker_env()
            if not any(req.marker.evaluate({**env, "extra": e}) for e in sorted(extras) + [""]):
                continue
        req.marker = None
        out.append(str(req))
    return sorted(set(out))


def pip_download(requirements: list[str], target: Target, dest: Path, find_links: list[Path] = ()) -> None:
    """pip download the requirements (and what they need) for the board into dest, binary wheels only."""
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-input", "--progress-bar",
           "off", "-d", str(dest), *target.pip_args()]
    for d in find_links:
        cmd += ["--find-links", str(d)]
    _run(cmd + list(requirements), target, "download")


def check_offline(dest: Path, target: Target, requirement: str) -> list[dict]:
    """Resolve `requirement` from dest alone with the board's tags (as install.sh does there, --no-index);
    returns pip's install report entries (name, version, file) or DownloadError naming what is missing."""
    tmp = tempfile.mkdtemp(prefix=private_prefix("offline-check"))
    try:
        report = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--dry-run",
               "--ignore-installed", "--no-index", "--find-links", str(dest), "--target", str(Path(tmp) / "t"),
               "--report", str(report), *target.pip_args(), requirement]
        _run(cmd, target, "offline check")
        doc = json.loads(report.read_text())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [{"name": i["metadata"]["name"], "version": i["metadata"]["version"],
             "file": i["download_info"]["url"].rsplit("/", 1)[-1]} for i in doc.get("install", [])]


def _run(cmd: list[str], target: Target, what: str) -> None:
    env = dict(os.environ, PIP_REQUIRE_VIRTUALENV="0")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=_PIP_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise DownloadError(f"pip {what} for {target.describe()} took over {_PIP_TIMEOUT} s; check the network "
                            "or the index (PIP_INDEX_URL)") from None
    if proc.returncode == 0:
        return
    text = proc.stderr + proc.stdout
    missing = _NO_MATCH.findall(text)
    if what == "download" and missing and not _NETWORK.search(text):
        # with retries off pip names no connection error unless asked for debug output: ask once, to tell
        # "the index has no such wheel" from "the index cannot be reached"
        again = subprocess.run(cmd + ["-vvv"], capture_output=True, text=True, env=env, timeout=_PIP_TIMEOUT)
        text += again.stderr + again.stdout
    if what == "download" and _NETWORK.search(text):
        raise DownloadError(f"pip could not reach the package index ({_first(_NETWORK, text)}): the wheelhouse "
                            f"downloads the engine and numpy wheels for {target.describe()} here, on the "
                            "workstation; connect to the index (or a mirror: PIP_INDEX_URL), or pass --find-links "
                            "DIR holding those wheels")
    if missing:
        where = "the index" if what == "download" else "the wheelhouse"
        if target.machine == "armv7l":  # PyPI has armv7l wheels of ncnn and pure-Python packages only
            names = " ".join(sorted({re.split(r"[<>=!~; \[]", m, maxsplit=1)[0] for m in missing} | {"numpy"}))
            raise DownloadError(f"{where} has no wheel of {', '.join(sorted(set(missing)))} for {target.describe()}: "
                                "PyPI publishes no armv7l wheels of numpy, Pillow or tflite-runtime; download them "
                                "from piwheels (pip download --index-url https://www.piwheels.org/simple "
                                f"--only-binary=:all: --platform linux_armv7l --python-version {target.python} "
                                f"-d DIR {names}) and pass --find-links DIR")
        raise DownloadError(f"{where} has no wheel of {', '.join(sorted(set(missing)))} for {target.describe()} "
                            f"(pip {what} failed); check the board's --python / --glibc, or drop that engine "
                            "with --engines")
    last = [ln for ln in text.strip().splitlines() if ln.strip()][-3:]
    raise DownloadError(f"pip {what} for {target.describe()} failed: {' | '.join(last)[:600]}")


def _first(pattern: re.Pattern, text: str) -> str:
    m = pattern.search(text)
    return m.group(0) if m else "network error"
