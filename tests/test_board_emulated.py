"""The runtime on emulated boards: the aarch64 wheel cross-built here (edgepack.deploy.cross_build) installed into a
Debian 12 arm64 root (tools/board_root.py: debootstrap, cached as a tarball) with aarch64 engine wheels
downloaded on the host, then run under qemu-user with the CPU models of a Pi 3 (cortex-a53), a Pi 4
(cortex-a72) and a Pi 5 / Jetson Orin stand-in (cortex-a76). A bundle packed on x86 with ncnn, MNN and LiteRT
artifacts must give the x86 results on each: the same top-k, scores within the bundle's fp32 tolerance.

Needs root and the Debian packages qemu-user-static binfmt-support debootstrap (skipped with their names
otherwise), network once for debootstrap and `pip download` (both cached under
${XDG_CACHE_HOME:-~/.cache}/edgepack-tests/). About 3 min with a warm cache, ~15 min on a fresh machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest

from board_common import ROOT, board_marks, board_root, digit_inputs, probe_result  # noqa: E402
from conftest import package_root
from edgepack.deploy import cross_build as build_wheels  # noqa: E402

pytestmark = board_marks("arm64")

ENGINES = ("ncnn", "mnn", "litert")
WHEELS = ["numpy", "click", "ncnn", "mnn", "ai-edge-litert", "tflite-runtime", "Pillow"]  # downloaded on the host
EXTRAS = ("ncnn", "mnn", "litert", "images")
TOOLCHAIN = ("onnx", "onnxruntime", "onnxslim", "pnnx", "torch", "matplotlib", "rich")
VENV = "/opt/edgepack"
PY = f"{VENV}/bin/python"
# Debian 11's libstdc++ (GLIBCXX up to 3.4.28, the level of Ubuntu 20.04 / JetPack 5): put first on the library
# path it makes ai-edge-litert 2.3.0 fail to load the way it does there (it needs GLIBCXX_3.4.30)
OLD_LIBSTDCXX = "http://deb.debian.org/debian/pool/main/g/gcc-10/libstdc++6_10.2.1-6_arm64.deb"


def _say(msg: str) -> None:
    print(f"[board] {msg}", file=sys.stderr, flush=True)


@pytest.fixture(scope="module")
def wheel() -> Path:
    return build_wheels.build_one("linux_aarch64", "3.11", ROOT / "build" / "wheels" / "dist", root=ROOT,
                                  work=ROOT / "build" / "wheels", quiet=True)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict:
    """The bundle (packed here, on x86, with ncnn, MNN and LiteRT artifacts) and one digit in three forms."""
    return digit_inputs(tmp_path_factory.mktemp("board"), "ncnn,mnn,tflite", bench_runs=3)  # tflite: engine litert


def _probe_args(base: str, inp: dict) -> list[str]:
    return [f"{base}/digits.edgepack", f"{base}/digit.png", f"{base}/digit.npy", f"{base}/digit.nv21",
            str(inp["w"]), str(inp["h"]), ",".join(ENGINES)]


@pytest.fixture(scope="module")
def x86(inputs) -> dict:
    """The same probe on this x86 machine: the results the boards must reproduce."""
    probe = [sys.executable, str(ROOT / "tests" / "board_probe.py"), *_probe_args(str(inputs["dir"]), inputs)]
    r = subprocess.run(probe,
                       capture_output=True, text=True, check=True, timeout=600,
                       env={**os.environ, "PYTHONPATH": package_root()})
    return probe_result(r.stdout)


@pytest.fixture(scope="module")
def board(wheel, inputs):
    """A fresh copy of the cached arm64 root with a venv holding `edgepack[ncnn,mnn,litert,images]` from the
    cross-built wheel (its dependencies resolved from the wheelhouse, which holds no toolchain package, so
    the install itself proves the runtime needs none) plus tflite-runtime. Removed at the end."""
    board_root.enable_binfmt()
    tarball = board_root.root_tarball(say=_say)
    wheelhouse = board_root.download_wheels(WHEELS, "3.11", say=_say)
    root = Path(tempfile.mkdtemp(prefix="edgepack-board-"))
    try:
        board_root.extract(tarball, root)
        shutil.copytree(wheelhouse, root / "wh")
        shutil.copy(wheel, root / "wh")
        (root / "data").mkdir()
        for f in inputs["dir"].iterdir():
            shutil.copy(f, root / "data")
        shutil.copy(ROOT / "tests" / "board_probe.py", root / "data")
        cpu = "cortex-a53"
        # the board install line of docs/packaging.md, from the wheelhouse; tflite-runtime for the fallback test
        # the root's own pip installs into the venv (--python): seeding pip into the venv costs ~2 min emulated
        for cmd in (["python3", "-m", "venv", "--without-pip", VENV],
                    ["python3", "-m", "pip", "--python", PY, "install", "-q", "--no-index", "--find-links", "/wh",
                     f"/wh/{wheel.name}[{','.join(EXTRAS)}]", "tflite-runtime"]):
            r = board_root.run(root, cmd, cpu)
            assert r.returncode == 0, f"{' '.join(cmd)}:\n{r.stdout}\n{r.stderr}"
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _board_python(root: Path, args: list[str], cpu: str, env: dict | None = None, timeout: float = 900):
    return board_root.run(root, [PY, *args], cpu, env=env, timeout=timeout)


def test_wheel_is_manylinux_plain_armv8(wheel):
    """auditwheel's verdict is in the name; the module holds no instruction a Cortex-A53 lacks."""
    assert "manylinux" in wheel.name and wheel.name.endswith("_aarch64.whl")
    assert wheel.stat().st_size <= 3_000_000
    plat = build_wheels.PLATFORMS["linux_aarch64"]
    objdump = build_wheels.find_objdump(plat)
    if objdump is None:
        pytest.skip("llvm-objdump / aarch64-linux-gnu-objdump missing (apt-get install binutils-aarch64-linux-gnu)")
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (so,) = [n for n in names if n.startswith("edgepack/_core.") and n.endswith("-aarch64-linux-gnu.so")]
        assert build_wheels.above_baseline(Path(zf.extract(so, tmp)), objdump) == []
    assert "edgepack/cpp/CMakeLists.txt" in names and any(n.startswith("edgepack/cpp/src/kernels/") for n in names)


def test_isa_scan_finds_lse_and_fp16(tmp_path):
    """The scan is not vacuous: code built for a Cortex-A76 (ARMv8.2: LSE, fp16 arithmetic) is flagged."""
    plat = build_wheels.PLATFORMS["linux_aarch64"]
    objdump = build_wheels.find_objdump(plat)
    if objdump is None:
        pytest.skip("llvm-objdump / aarch64-linux-gnu-objdump missing (apt-get install binutils-aarch64-linux-gnu)")
    src = tmp_path / "v82.c"
    src.write_text("#include <arm_neon.h>\n"
                   "int bump(int *p) { return __atomic_fetch_add(p, 1, __ATOMIC_SEQ_CST); }\n"
                   "float16x8_t add(float16x8_t a, float16x8_t b) { return vaddq_f16(a, b); }\n")
    obj = tmp_path / "v82.o"
    subprocess.run([build_wheels.zig_binary(), "cc", "-target", "aarch64-linux-gnu", "-O2",
                    "-mcpu=cortex_a76", "-c", str(src), "-o", str(obj)], check=True)
    found = " ".join(build_wheels.above_baseline(obj, objdump))
    assert "ldaddal" in found and "fadd" in found


@pytest.mark.parametrize("cpu", list(board_root.CPU_MODELS))
def test_bundle_on_emulated_board_matches_x86(board, inputs, x86, cpu):
    from edgepack.runtime.metrics import agreement, passes

    r = _board_python(board, ["/data/board_probe.py", *_probe_args("/data", inputs)], cpu)
    assert r.returncode == 0, f"{cpu}:\n{r.stderr[-3000:]}"
    got = probe_result(r.stdout)
    _say(f"{cpu}: isa {got['isa']}, import {got['import_s']:.1f}s, " +
         ", ".join(f"{e} load {v['load_s']:.1f}s top {v['array']['class_ids'][0]}" for e, v in got["engines"].items()))
    assert got["isa"] == "neon"
    assert got["vulkan"]["built"] is False  # cross builds never see the host's Vulkan headers
    for engine in ENGINES:
        mine, ref = got["engines"][engine], x86["engines"][engine]
        assert mine["engine"] == engine
        for kind in ("array", "png", "nv21"):
            assert mine[kind]["class_ids"] == ref[kind]["class_ids"], (cpu, engine, kind)
            a = agreement(np.array(ref[kind]["scores"]), np.array(mine[kind]["scores"]), "fp32")
            assert passes(a, "fp32"), (cpu, engine, kind, a)
        for name, ref_out in ref["raw"].items():
            a = agreement(np.array(ref_out), np.array(mine["raw"][name]), "fp32")
            assert passes(a, "fp32"), (cpu, engine, name, a)
    assert got["engines"]["ncnn"]["png"]["class_ids"][0] == int(inputs["label"])


@pytest.mark.parametrize("cpu", list(board_root.CPU_MODELS))
def test_cli_on_emulated_board(board, inputs, cpu):
    r = _board_python(board, ["-m", "edgepack", "engines"], cpu)
    assert r.returncode == 0, r.stderr
    for engine in ENGINES:
        assert engine in r.stdout
    r = _board_python(board, ["-m", "edgepack", "info", "/data/digits.edgepack"], cpu)
    assert r.returncode == 0, r.stderr
    assert "digits" in r.stdout and "ncnn" in r.stdout and "litert" in r.stdout
    r = _board_python(board, ["-m", "edgepack", "run", "/data/digits.edgepack", "/data/digit.png", "--engine", "mnn"],
                      cpu)
    assert r.returncode == 0, r.stderr
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("/data/digit.png"))
    assert line.split(": ", 1)[1].startswith(str(inputs["label"]))
    r = _board_python(board, ["-m", "edgepack", "run", "/data/missing.png", "/data/digit.png"], cpu)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_doctor_and_verify_on_emulated_board(board):
    """Hook for `edgepack doctor` and `edgepack verify BUNDLE` (issue 9 part 4): runs them once they exist."""
    cpu = "cortex-a53"
    have = _board_python(board, ["-m", "edgepack", "--help"], cpu).stdout
    missing = [c for c in ("doctor", "verify") if f"  {c} " not in have]
    if missing:
        pytest.skip(f"`edgepack {'/'.join(missing)}` not in this build yet")
    r = _board_python(board, ["-m", "edgepack", "doctor"], cpu)
    assert r.returncode == 0, r.stderr
    assert "neon" in r.stdout.lower()
    r = _board_python(board, ["-m", "edgepack", "verify", "/data/digits.edgepack"], cpu)
    assert r.returncode == 0, r.stdout + r.stderr


def test_no_toolchain_in_the_board_venv(board):
    code = ("import importlib.util, json; "
            f"print(json.dumps([m for m in {list(TOOLCHAIN)!r} if importlib.util.find_spec(m)]))")
    r = _board_python(board, ["-c", code], "cortex-a72")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == []


def test_installed_sizes_on_board(board, wheel):
    """Measured on the arm64 root: the runtime's wheel and installed size against ncnn's (issue 9 goals:
    wheel <= 3 MB, runtime + ncnn <= 2x ncnn's own installed size)."""
    dists = ["edgepack", "numpy", "click", "ncnn", "Pillow", "mnn", "ai-edge-litert", "tflite-runtime",
             "tqdm", "requests", "portalocker", "urllib3", "idna", "charset-normalizer", "certifi"]
    size = board_root.installed_size(board, PY, dists)
    mb = {k: round(v / 1e6, 2) for k, v in size.items()}
    ncnn_deps = sum(size[d] for d in ("tqdm", "requests", "portalocker", "urllib3", "idna", "charset-normalizer",
                                      "certifi"))
    board_install = size["edgepack"] + size["numpy"] + size["click"] + size["ncnn"] + ncnn_deps
    _say(f"wheel {wheel.name}: {wheel.stat().st_size / 1e6:.2f} MB; installed MB: {mb}; "
         f"runtime+numpy+click+ncnn(+its deps) {board_install / 1e6:.1f} MB")
    assert wheel.stat().st_size <= 3_000_000
    assert size["edgepack"] + size["click"] <= size["ncnn"]  # runtime + ncnn <= 2x ncnn


def _old_libstdcxx() -> Path:
    """Debian 11's arm64 libstdc++.so.6 (cached)."""
    out = board_root.cache_dir() / "bullseye-libstdc++6-arm64"
    lib = out / "usr" / "lib" / "aarch64-linux-gnu" / "libstdc++.so.6"
    if lib.exists():
        return lib.parent
    deb = board_root.cache_dir() / "libstdc++6_10.2.1-6_arm64.deb"
    if not deb.exists():
        part = deb.with_suffix(".part")
        with urllib.request.urlopen(OLD_LIBSTDCXX, timeout=120) as resp:
            part.write_bytes(resp.read())
        part.rename(deb)
    tmp = out.with_name(out.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp)], check=True)
    tmp.rename(out)
    return lib.parent


def test_litert_falls_back_to_tflite_runtime_when_its_wheel_cannot_load(board):
    """ai-edge-litert 2.3.0 is tagged manylinux_2_27 but needs GLIBCXX_3.4.29/3.4.30: with Debian 11's libstdc++
    (3.4.28) it cannot load, and the litert engine must say so in one line and turn to tflite-runtime."""
    libdir = _old_libstdcxx()
    shutil.copytree(libdir, board / "opt" / "oldlib", dirs_exist_ok=True)
    env = {"LD_LIBRARY_PATH": "/opt/oldlib"}
    cpu = "cortex-a72"
    r = _board_python(board, ["-c", "import ai_edge_litert.interpreter"], cpu, env=env)
    # the wheel really fails here (the loader names the first missing version, GLIBCXX_3.4.29 for 2.3.0)
    assert r.returncode != 0 and re.search(r"GLIBCXX_3\.4\.(29|30)' not found", r.stderr), r.stderr[-2000:]
    # tflite-runtime 2.14 (the last release) is built against numpy 1.x: with numpy 2, as this venv has, it
    # cannot start either, and that too must be one line, exit 2, no traceback
    r = _board_python(board, ["-m", "edgepack", "run", "/data/digits.edgepack", "/data/digit.png", "--engine",
                              "litert"], cpu, env=env)
    assert r.returncode == 2, r.stdout + r.stderr[-3000:]
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    assert "using tflite-runtime instead" in r.stderr
    assert "tflite-runtime cannot run with numpy 2" in r.stderr and "install 'numpy<2'" in r.stderr, r.stderr
