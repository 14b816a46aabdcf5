"""deploy/glibc_needs.py: the symbol versions an ELF object needs, read from .gnu.version_r, equal what
binutils' readelf reports, for this machine's libraries and (when the cross toolchain is installed) aarch64
ones; a wheel's need is its most demanding object's."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from edgepack.deploy.glibc_needs import elf_version_needs, wheel_glibc_need

CANDIDATES = [Path("/usr/lib/x86_64-linux-gnu/libstdc++.so.6"), Path("/usr/lib/x86_64-linux-gnu/libz.so.1"),
              Path("/usr/aarch64-linux-gnu/lib/libstdc++.so.6"), Path("/usr/aarch64-linux-gnu/lib/libm.so.6")]


def _readelf_needs(path: Path) -> set[str]:
    out = subprocess.run(["readelf", "-V", "--wide", str(path)], capture_output=True, text=True, check=True).stdout
    section = out.split("Version needs section", 1)[1] if "Version needs section" in out else ""
    return set(re.findall(r"Name: (\S+)\s+Flags", section))


@pytest.mark.skipif(shutil.which("readelf") is None, reason="needs binutils (readelf)")
@pytest.mark.parametrize("path", [p for p in CANDIDATES if p.exists()], ids=str)
def test_version_needs_match_readelf(path):
    data = path.resolve().read_bytes()
    assert elf_version_needs(data) == _readelf_needs(path.resolve())


def test_not_elf_needs_nothing():
    assert elf_version_needs(b"#!/bin/sh\n") == set() and elf_version_needs(b"\x7fELF") == set()


def test_wheel_need_is_its_most_demanding_shared_object(tmp_path):
    libs = [p for p in CANDIDATES if p.exists()]
    if not libs:
        pytest.skip("no system library to read here")
    wheel = tmp_path / "x-1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for i, p in enumerate(libs):
            zf.writestr(f"x/lib{i}.so.1", p.resolve().read_bytes())
        zf.writestr("x/readme.so.txt", "not a library")
    want = max((2, int(m)) for p in libs for v in elf_version_needs(p.resolve().read_bytes())
               for m in re.findall(r"^GLIBC_2\.(\d+)$", v))
    need, where = wheel_glibc_need(wheel)
    assert need == want and where.startswith("x/lib")
