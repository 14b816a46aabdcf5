"""Coverage-guided fuzzing of every parser that reads an untrusted file (issue 14): the bundle reader (zip +
manifest + schema + integrity), manifest validation, the ncnn .param reader, the image / camera-Frame input
path, and the C++ kernels' argument checking through the bindings. Each target runs EDGEPACK_FUZZ_RUNS
executions (default 100000) from a corpus seeded with real files; any input that ends in something other than a
one-line edgepack error, crashes the core or runs past the timeout fails the test with its reproducer."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, conv_relu_model, package_root

pytest.importorskip("atheris", reason="fuzzing needs atheris (pip install atheris; in the dev extra)")

RUNS = int(os.environ.get("EDGEPACK_FUZZ_RUNS", "100000"))
TARGETS = {"bundle": 32_768, "manifest": 65_536, "ncnn_param": 65_536, "image": 65_536, "kernels": 4096}


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> Path:
    """Real files as seeds: a bundle packed from a small conv model (ncnn fp32: a few KB, so each execution is
    cheap and mutations reach the manifest and members), its manifest, its ncnn .param, PNG/JPEG images and an
    NV21 frame of a held-out digit."""
    from PIL import Image

    from edgepack.demo import load_demo
    from edgepack.pack import PackOptions, pack

    root = tmp_path_factory.mktemp("fuzz-seeds")
    for t in TARGETS:
        (root / t).mkdir()
    bundle = root / "bundle" / "conv.edgepack"
    pack(conv_relu_model(root / "conv.onnx", size=8), bundle, PackOptions(task="raw"), to="ncnn",
         precision="fp32", bench_runs=0, references=1)
    with zipfile.ZipFile(bundle) as z:
        (root / "manifest" / "manifest.json").write_bytes(z.read("manifest.json"))
        param = next(n for n in z.namelist() if n.endswith(".param"))
        (root / "ncnn_param" / "model.param").write_bytes(z.read(param))
    img = load_demo().images[0]
    Image.fromarray(img).save(root / "image" / "digit.png")
    Image.fromarray(img).save(root / "image" / "digit.jpg", quality=80)
    # mode byte 1 selects the Frame path in fuzz_image: width, height, format and rotation come first
    (root / "image" / "frame.bin").write_bytes(b"\x01" + bytes(32 * 24 * 3 // 2))
    return root


@pytest.mark.slow
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_fuzz_target(target, seeds, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(seeds / target, corpus)
    env = dict(os.environ, PYTHONPATH=package_root() + os.pathsep + os.environ.get("PYTHONPATH", ""),
               TMPDIR=str(tmp_path))
    r = subprocess.run([sys.executable, str(ROOT / "tests" / "fuzz" / "run.py"), target, "--runs", str(RUNS),
                        "--corpus", str(corpus), "--max-len", str(TARGETS[target]), "--artifacts", str(tmp_path)],
                       env=env, capture_output=True, text=True, timeout=3600)
    crashes = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "timeout-", "oom-")))
    assert r.returncode == 0 and not crashes, (crashes, r.stdout[-3000:], r.stderr[-3000:])
    done = re.search(r"^Done (\d+) runs in (\d+) second", r.stderr, re.M)  # libFuzzer's last word
    assert done and int(done.group(1)) >= RUNS, r.stderr[-2000:]
    print(f"fuzz {target}: {done.group(1)} executions in {done.group(2)} s, 0 crashes, 0 hangs")
