"""32-bit Raspberry Pi OS (armhf, armv7l): the runtime wheel cross-built here for linux_armv7l, installed into a
Debian 12 armhf root (tools/board_root.py) beside Debian's own numpy, with ncnn's armv7l wheel from PyPI, and run
under qemu-arm as a Pi 2 core (cortex-a7; a Pi 3/4/5 on 32-bit Pi OS runs a superset). A bundle packed on x86
must give the x86 result there.

What armv7l has (docs/boards.md): on PyPI only ncnn publishes armv7l wheels (numpy, Pillow, MNN, ai-edge-litert
and tflite-runtime for Python 3.11 do not), so numpy and Pillow come from Debian (or piwheels, which 32-bit Pi
OS enables); the C++ core is built without its NEON kernels there (they use AArch64-only intrinsics), so the
scalar kernels run. The armhf Python headers the build needs come from the root (Debian libpython3.11-dev).

Slow: needs root and qemu-user-static binfmt-support debootstrap; debootstrap ~10 min once (cached), the build
~4 min, the emulated run ~2 min.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from board_common import ROOT, board_marks, board_root, digit_inputs, probe_result
from conftest import package_root
from edgepack.deploy import cross_build

pytestmark = board_marks("armhf")

ARMHF_PACKAGES = ("libpython3.11-dev", "python3-numpy", "python3-pil")
VENV = "/opt/edgepack"
PY = f"{VENV}/bin/python"
CPU = "cortex-a7"


def _say(msg: str) -> None:
    print(f"[armv7l] {msg}", file=sys.stderr, flush=True)


@pytest.fixture(scope="module")
def armhf_root():
    board_root.enable_binfmt("armhf")
    tarball = board_root.root_tarball("bookworm", "armhf", say=_say, extra=ARMHF_PACKAGES)
    root = Path(tempfile.mkdtemp(prefix="edgepack-armhf-"))
    try:
        yield board_root.extract(tarball, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def wheel(armhf_root) -> Path:
    """The armv7l runtime wheel, built against the root's own Python headers (Debian's pyconfig.h for armhf
    lives in the multiarch folder; the staged copy puts it where Python.h looks). The staging folder has a
    fixed path, so a rebuild finds the same settings and is incremental."""
    inc = ROOT / "build" / "wheels" / "armhf-include" / "python3.11"
    shutil.rmtree(inc, ignore_errors=True)
    shutil.copytree(armhf_root / "usr/include/python3.11", inc)
    shutil.copyfile(armhf_root / "usr/include/arm-linux-gnueabihf/python3.11/pyconfig.h", inc / "pyconfig.h")
    return cross_build.build_one("linux_armv7l", "3.11", ROOT / "build" / "wheels" / "dist", root=ROOT,
                                 work=ROOT / "build" / "wheels", py_include=inc, quiet=True, log=_say)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict:
    inp = digit_inputs(tmp_path_factory.mktemp("armv7l"), "ncnn")
    shutil.copy(ROOT / "tests" / "board_probe.py", inp["dir"])
    return inp


def _probe(python: list[str], base: str, inp: dict) -> list[str]:
    return [*python, f"{base}/board_probe.py", f"{base}/digits.edgepack", f"{base}/digit.png", f"{base}/digit.npy",
            f"{base}/digit.nv21", str(inp["w"]), str(inp["h"]), "ncnn"]


def test_armv7l_wheel_installs_and_matches_x86(armhf_root, wheel, inputs):
    from edgepack.runtime.metrics import agreement, passes

    assert wheel.name.endswith("_armv7l.whl") and "manylinux" in wheel.name, wheel.name
    assert wheel.stat().st_size <= 3_000_000
    plats = board_root.manylinux_platforms("2.36", "armv7l")
    # ncnn without its numpy requirement (Debian's numpy serves it); click and ncnn's other requirements are
    # pure Python or have armv7l wheels
    ncnn = board_root.download_wheels(["ncnn"], "3.11", plats, say=_say, deps=False)
    pure = board_root.download_wheels(["click", "tqdm", "requests", "portalocker"], "3.11", plats, say=_say)
    root = armhf_root
    for d in (ncnn, pure):
        shutil.copytree(d, root / "wh", dirs_exist_ok=True)
    shutil.copy(wheel, root / "wh")
    shutil.copytree(inputs["dir"], root / "data", dirs_exist_ok=True)
    # numpy and Pillow are Debian's (no armv7l wheels on PyPI): a venv that sees the system site-packages
    for cmd in (["python3", "-m", "venv", "--system-site-packages", "--without-pip", VENV],
                ["python3", "-m", "pip", "--python", PY, "install", "-q", "--no-index", "--find-links", "/wh",
                 f"/wh/{wheel.name}", "ncnn"]):
        r = board_root.run(root, cmd, CPU, timeout=1800)
        assert r.returncode == 0, f"{' '.join(cmd)}:\n{r.stdout}\n{r.stderr}"
    r = board_root.run(root, _probe([PY], "/data", inputs), CPU, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    got = probe_result(r.stdout)
    x86 = probe_result(subprocess.run(_probe([sys.executable], str(inputs["dir"]), inputs), capture_output=True,
                                 text=True, check=True, timeout=600,
                                 env={**os.environ, "PYTHONPATH": package_root()}).stdout)
    mine, ref = got["engines"]["ncnn"], x86["engines"]["ncnn"]
    _say(f"{CPU}: isa {got['isa']} of {got['isas']}, import {got['import_s']:.1f}s, ncnn load {mine['load_s']:.1f}s")
    assert got["isa"] == "ref"  # no NEON kernels in a 32-bit build: the scalar ones run
    for kind in ("array", "png", "nv21"):
        assert mine[kind]["class_ids"] == ref[kind]["class_ids"], kind
        a = agreement(np.array(ref[kind]["scores"]), np.array(mine[kind]["scores"]), "fp32")
        assert passes(a, "fp32"), (kind, a)
    assert mine["png"]["class_ids"][0] == inputs["label"]
    for args in (["engines"], ["info", "/data/digits.edgepack"], ["verify", "/data/digits.edgepack"]):
        r = board_root.run(root, [f"{VENV}/bin/edgepack", *args], CPU, timeout=900)
        assert r.returncode == 0 and "Traceback" not in r.stderr, (args, r.stdout, r.stderr)
