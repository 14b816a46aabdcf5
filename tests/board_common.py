"""What the emulated-board tests (test_board_emulated, test_board_armv7l, test_board_trixie) share: their skip
conditions and the result line of tests/board_probe.py."""

from __future__ import annotations

import importlib.util
import json
import platform
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import board_root  # noqa: E402


def board_marks(arch: str = "arm64") -> list:
    """slow, and skipped with the missing package's name: root + qemu-user-static binfmt-support debootstrap
    (qemu-arm for armhf), the cross build's ziglang + auditwheel, an x86_64 host."""
    missing = board_root.missing_requirements()
    if not missing and arch == "armhf" and not Path("/usr/share/binfmts/qemu-arm").exists():
        missing = ["qemu-user-static's qemu-arm"]
    missing_pip = [m for m in ("ziglang", "auditwheel") if importlib.util.find_spec(m) is None]
    return [
        pytest.mark.slow,
        pytest.mark.skipif(bool(missing),
                           reason=f"needs {', '.join(missing)} (apt-get install {' '.join(board_root.APT)})"),
        pytest.mark.skipif(bool(missing_pip),
                           reason=f"needs {', '.join(missing_pip)} (pip install 'edgepack[build]')"),
        pytest.mark.skipif(platform.machine() != "x86_64", reason=f"emulates {arch} from an x86_64 host"),
    ]


def probe_result(stdout: str) -> dict:
    """The JSON line board_probe.py printed (engines print to stdout too, so it is found by its marker)."""
    from board_probe import MARK

    return json.loads(next(ln for ln in stdout.splitlines() if ln.startswith(MARK))[len(MARK):])


def digit_inputs(dest: Path, to: str, bench_runs: int = 0) -> dict:
    """The demo digits model packed here, on x86 (`to`: the converters), and one held-out digit as a PNG, an
    array and an NV21 frame, 96x64 (not the model's size, so it is resized), all in dest."""
    import numpy as np
    from PIL import Image
    from test_session import rgb_to_nv21

    from edgepack.demo import load_demo
    from edgepack.pack import PackOptions, pack

    d = load_demo()
    dest.mkdir(parents=True, exist_ok=True)
    opts = PackOptions(task="classify", labels=d.spec["labels"], mean=d.spec["mean"], std=d.spec["std"],
                       name="digits")
    pack(d.model, dest / "digits.edgepack", opts, to=to, precision="fp32", bench_runs=bench_runs)
    img = np.kron(d.images[3], np.ones((3, 2, 1), np.uint8))
    Image.fromarray(img).save(dest / "digit.png")
    np.save(dest / "digit.npy", img)
    (dest / "digit.nv21").write_bytes(rgb_to_nv21(img))
    return {"dir": dest, "bundle": dest / "digits.edgepack", "w": img.shape[1], "h": img.shape[0],
            "label": int(d.labels[3])}
