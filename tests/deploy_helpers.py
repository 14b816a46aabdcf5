"""Helpers of the deploy tests (edgepack wheel / wheelhouse): the demo bundle, a digit image, clean venvs that
see nothing of this environment, and the classification lines the model's console script prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def pack_digits(out: Path, to: str = "ncnn,mnn,tflite", name: str | None = None) -> Path:
    """The demo digits classifier packed as a bundle (fp32, short bench)."""
    from edgepack.demo import load_demo
    from edgepack.pack import PackOptions, pack

    d = load_demo()
    opts = PackOptions(task="classify", labels=d.spec["labels"], mean=d.spec["mean"], std=d.spec["std"])
    if name:
        opts.name = name
    pack(d.model, out, opts, to=to, precision="fp32", bench_runs=3)
    return out


def digit_images(out_dir: Path, indices=(3, 7)) -> list[Path]:
    """Held-out digits scaled to 96x64 (not the model's size, so the pre-processing resizes) as PNG files."""
    from PIL import Image

    from edgepack.demo import load_demo

    d = load_demo()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in indices:
        p = out_dir / f"digit{i}.png"
        Image.fromarray(np.kron(d.images[i], np.ones((3, 2, 1), np.uint8))).save(p)
        paths.append(p)
    return paths


def clean_env(**extra: str) -> dict[str, str]:
    """An environment without this venv, PYTHONPATH or pip configuration."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INPUT": "1"}
    env.update(extra)
    return env


def base_python() -> str:
    """The interpreter this venv was made from (a venv made by it sees none of our site-packages)."""
    return getattr(sys, "_base_executable", sys.executable)


def make_venv(path: Path) -> Path:
    subprocess.run([base_python(), "-m", "venv", str(path)], check=True, env=clean_env())
    return path / "bin" / "python"


def build_runtime_wheel(out: Path) -> Path:
    """The runtime wheel of this source tree for this machine (pip wheel --no-deps)."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out),
                    str(ROOT)], check=True)
    (wheel,) = out.glob("edgepack-*.whl")
    return wheel


_LINE = re.compile(r"^(?P<path>\S+\.png): (?P<result>.*)$")


def results(stdout: str) -> dict[str, list[tuple[str, float]]]:
    """{image file name: [(label, score), ...]} from the classification lines of `mymodel IMAGE...`."""
    out = {}
    for line in stdout.splitlines():
        m = _LINE.match(line.strip())
        if m:
            pairs = [p.rsplit(" ", 1) for p in m.group("result").split(", ")]
            out[Path(m.group("path")).name] = [(lab, float(s)) for lab, s in pairs]
    return out


def same_classification(a: list[tuple[str, float]], b: list[tuple[str, float]], tol: float = 0.002) -> bool:
    """Same top-1 label, and every label's printed score within tol (lower ranks of ~0 scores may swap)."""
    sa, sb = dict(a), dict(b)
    return a[0][0] == b[0][0] and all(abs(sa[k] - sb.get(k, 0.0)) <= tol for k in sa)
