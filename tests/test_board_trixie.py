"""Pi OS trixie (Debian 13, Python 3.13, glibc 2.41; Pi OS's current release): the cp313 aarch64 runtime wheel
cross-built here, installed with `edgepack[ncnn,images]` from wheels downloaded on the host into a Debian 13
arm64 root, runs a bundle packed on x86 under QEMU_CPU=cortex-a72 (Pi 4) with the x86 result; `edgepack verify`
passes there. Slow: root and qemu-user-static binfmt-support debootstrap; debootstrap ~10 min once (cached), the
cp313 build ~5 min, the emulated run ~2 min. tests/test_board_emulated.py covers bookworm / cp311 on three CPUs.
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

pytestmark = board_marks("arm64")
VENV = "/opt/edgepack"
CPU = "cortex-a72"


def _say(msg: str) -> None:
    print(f"[trixie] {msg}", file=sys.stderr, flush=True)


def test_cp313_wheel_on_debian_trixie_matches_x86(tmp_path):

    from edgepack.runtime.metrics import agreement, passes

    try:
        wheel = cross_build.build_one("linux_aarch64", "3.13", ROOT / "build" / "wheels" / "dist", root=ROOT,
                                      work=ROOT / "build" / "wheels", quiet=True, log=_say)
    except cross_build.CrossBuildError as e:  # no Python 3.13 headers on this machine
        pytest.skip(str(e))
    board_root.enable_binfmt()
    tarball = board_root.root_tarball("trixie", "arm64", say=_say)
    wheels = board_root.download_wheels(["numpy", "click", "ncnn", "Pillow"], "3.13",
                                        board_root.manylinux_platforms("2.41"), say=_say)
    inp = digit_inputs(tmp_path / "data", "ncnn")
    data, label = inp["dir"], inp["label"]
    shutil.copy(ROOT / "tests" / "board_probe.py", data)

    def probe(python: str, base: str) -> list[str]:
        return [python, f"{base}/board_probe.py", f"{base}/digits.edgepack", f"{base}/digit.png",
                f"{base}/digit.npy", f"{base}/digit.nv21", str(inp["w"]), str(inp["h"]), "ncnn"]

    root = Path(tempfile.mkdtemp(prefix="edgepack-trixie-"))
    try:
        board_root.extract(tarball, root)
        shutil.copytree(wheels, root / "wh")
        shutil.copy(wheel, root / "wh")
        shutil.copytree(data, root / "data")
        for cmd in (["python3", "-m", "venv", "--without-pip", VENV],
                    ["python3", "-m", "pip", "--python", f"{VENV}/bin/python", "install", "-q", "--no-index",
                     "--find-links", "/wh", f"/wh/{wheel.name}[ncnn,images]"]):
            r = board_root.run(root, cmd, CPU, timeout=1800)
            assert r.returncode == 0, f"{' '.join(cmd)}:\n{r.stdout}\n{r.stderr}"
        r = board_root.run(root, probe(f"{VENV}/bin/python", "/data"), CPU, timeout=1800)
        assert r.returncode == 0, r.stderr[-3000:]
        got = probe_result(r.stdout)["engines"]["ncnn"]
        x86 = probe_result(subprocess.run(probe(sys.executable, str(data)), capture_output=True, text=True, check=True,
                                     timeout=600, env={**os.environ, "PYTHONPATH": package_root()}).stdout)
        ref = x86["engines"]["ncnn"]
        for kind in ("array", "png", "nv21"):
            assert got[kind]["class_ids"] == ref[kind]["class_ids"], kind
            a = agreement(np.array(ref[kind]["scores"]), np.array(got[kind]["scores"]), "fp32")
            assert passes(a, "fp32"), (kind, a)
        assert got["png"]["class_ids"][0] == label
        r = board_root.run(root, [f"{VENV}/bin/edgepack", "verify", "/data/digits.edgepack"], CPU, timeout=900)
        assert r.returncode == 0 and "agrees with ONNX Runtime" in r.stdout, r.stdout + r.stderr
        _say(f"{CPU}: {wheel.name} on Python 3.13, ncnn load {got['load_s']:.1f}s, top {got['png']['class_ids'][0]}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
