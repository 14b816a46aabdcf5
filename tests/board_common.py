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
