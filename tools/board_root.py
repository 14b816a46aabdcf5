#!/usr/bin/env python3
"""An emulated Raspberry Pi / Jetson userland on this x86 machine: a Debian arm64 (or armhf, 32-bit Pi OS's
architecture) root made with debootstrap, run through qemu-user-static + binfmt with a chosen CPU model
(QEMU_CPU).

    python tools/board_root.py root                      # make (or reuse) the cached root tarball
    python tools/board_root.py wheels numpy ncnn ...     # download aarch64 wheels for it (cached)
    python tools/board_root.py shell --cpu cortex-a53    # a shell in a fresh copy (left in /tmp on exit)

The root is cached as a tarball under ${XDG_CACHE_HOME:-~/.cache}/edgepack-tests/ (debootstrap takes ~8 min
once; extracting the tarball takes seconds). pip inside the root cannot reach an index, so wheels are
downloaded on the host (`pip download --platform ... --only-binary=:all:`) and installed there with
--no-index. qemu's default CPU model is `max`, which accepts every instruction and hides "Illegal
instruction": always pick a model (cortex-a53 = Pi 3 / Zero 2, cortex-a72 = Pi 4, cortex-a76 = Pi 5 and a
stand-in for Jetson Orin).

Needs root and the Debian packages qemu-user-static binfmt-support debootstrap.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CPU_MODELS = {"cortex-a53": "Pi 3 / Zero 2", "cortex-a72": "Pi 4", "cortex-a76": "Pi 5 / Jetson Orin stand-in"}
# 32-bit (armhf) roots run under qemu-arm: a Pi 2's core; a Pi 3/4/5 running 32-bit Pi OS is ARMv8 in AArch32, a
# superset of it
ARMHF_CPU_MODELS = {"cortex-a7": "Pi 2 (and 32-bit Pi OS on any Pi)"}
QEMU_ARCH = {"arm64": "aarch64", "armhf": "arm"}  # Debian architecture -> qemu's name
SUITES = {"bookworm": "3.11", "bullseye": "3.9", "trixie": "3.13"}  # Debian suite -> its python3
PACKAGES = "python3,python3-venv,python3-pip,ca-certificates"
MIRROR = os.environ.get("EDGEPACK_DEBIAN_MIRROR", "http://deb.debian.org/debian")
APT = ("qemu-user-static", "binfmt-support", "debootstrap")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "edgepack-tests"


def missing_requirements() -> list[str]:
    """What this machine lacks to run an emulated root (empty list = ready)."""
    out = []
    if os.geteuid() != 0:
        out.append("root (chroot and debootstrap need it)")
    if shutil.which("debootstrap") is None:
        out.append("debootstrap")
    if not Path("/usr/bin/qemu-aarch64-static").exists() and not Path("/usr/libexec/qemu-binfmt").exists():
        out.append("qemu-user-static")
    if shutil.which("update-binfmts") is None:
        out.append("binfmt-support")
    return out


def enable_binfmt(arch: str = "arm64") -> None:
    """Make the kernel run `arch` (Debian's name: arm64, armhf) ELF files through qemu (idempotent)."""
    name = f"qemu-{QEMU_ARCH[arch]}"
    misc = Path("/proc/sys/fs/binfmt_misc")
    if not (misc / "register").exists():
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(misc)], check=True)
    if not (misc / name).exists():
        subprocess.run(["update-binfmts", "--enable", name], check=True)
    entry = (misc / name).read_text()
    if "enabled" not in entry.splitlines()[0]:
        subprocess.run(["update-binfmts", "--enable", name], check=True)
    if "F" not in next((ln for ln in entry.splitlines() if ln.startswith("flags:")), "flags:").split(":", 1)[1]:
        # without the F(ix binary) flag the interpreter must exist inside every chroot
        raise RuntimeError(f"binfmt {name} is registered without the F flag: reinstall qemu-user-static")


def root_tarball(suite: str = "bookworm", arch: str = "arm64", say=print, extra: tuple[str, ...] = ()) -> Path:
    """The cached tarball of a minimal Debian `suite` root for `arch` with python3 + venv + pip (and the
    Debian packages in `extra`); made with debootstrap on first use (written beside its final name and renamed
    at the end)."""
    tag = "-" + hashlib.sha256(",".join(sorted(extra)).encode()).hexdigest()[:8] if extra else ""
    out = cache_dir() / f"debian-{suite}-{arch}{tag}-root.tar"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    enable_binfmt(arch)
    with tempfile.TemporaryDirectory(prefix=f".root-{suite}-", dir=out.parent) as tmp:
        root = Path(tmp) / "root"
        say(f"debootstrap {suite} {arch} (one time, ~8 min) -> {out}")
        include = ",".join([PACKAGES, *extra])
        subprocess.run(["debootstrap", f"--arch={arch}", "--variant=minbase", f"--include={include}", suite,
                        str(root), MIRROR], check=True, stdout=subprocess.DEVNULL)
        for deb in (root / "var" / "cache" / "apt" / "archives").glob("*.deb"):
            deb.unlink()  # the downloaded packages are installed already
        part = Path(tmp) / "root.tar"
        subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-cf", str(part), "."], check=True)
        os.replace(part, out)
    return out


def extract(tarball: Path, dest: Path) -> Path:
    """A fresh root from the tarball at dest (which must not exist or be empty)."""
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-C", str(dest), "--numeric-owner", "-xf", str(tarball)], check=True)
    return dest


def manylinux_platforms(glibc: str = "2.36", arch: str = "aarch64") -> tuple[str, ...]:
    """Every manylinux tag a system with this glibc accepts, newest first (pip's --platform does not expand
    a tag to the older ones itself). Debian 12 (and Pi OS bookworm) has glibc 2.36."""
    major, minor = (int(p) for p in glibc.split("."))
    tags = [f"manylinux_{major}_{m}_{arch}" for m in range(minor, 16, -1)]
    return (*tags, f"manylinux2014_{arch}")


def download_wheels(requirements: list[str], python: str = "3.11", platforms: tuple[str, ...] | None = None,
                    say=print, deps: bool = True) -> Path:
    """aarch64 wheels (with dependencies) for `requirements`, downloaded once into a cache folder keyed by the
    request; by default for Debian 12's glibc (tflite-runtime 2.14 is tagged manylinux_2_34, mnn 2014)."""
    platforms = platforms or manylinux_platforms()
    key = hashlib.sha256(json.dumps([sorted(requirements), python, platforms, deps]).encode()).hexdigest()[:16]
    out = cache_dir() / f"wheels-cp{python.replace('.', '')}-aarch64-{key}"
    if (out / ".complete").is_file():
        return out
    shutil.rmtree(out, ignore_errors=True)
    tmp = out.with_name(out.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "--python-version", python,
           "--implementation", "cp", "-d", str(tmp)] + ([] if deps else ["--no-deps"])
    for p in platforms:
        cmd += ["--platform", p]
    say(f"pip download for aarch64 Python {python}: {' '.join(requirements)}")
    subprocess.run(cmd + requirements, check=True)
    (tmp / ".complete").write_text(json.dumps(requirements) + "\n")
    os.replace(tmp, out)
    return out


def chroot_env(cpu: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a process in the root: a clean one, with the qemu CPU model (read by the binfmt
    qemu that runs every aarch64 binary, inherited by their children)."""
    if cpu not in CPU_MODELS and cpu not in ARMHF_CPU_MODELS and cpu != "max":
        raise ValueError(f"unknown qemu CPU model {cpu!r}; choose from {', '.join([*CPU_MODELS, *ARMHF_CPU_MODELS])}")
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8",
           "QEMU_CPU": cpu, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.update(extra or {})
    return env


def run(root: Path, cmd: list[str], cpu: str, env: dict[str, str] | None = None, timeout: float = 1800,
        check: bool = False) -> subprocess.CompletedProcess:
    """Run `cmd` inside the root under qemu CPU model `cpu`; output captured as text."""
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"
    return subprocess.run([chroot, str(root), *cmd], env=chroot_env(cpu, env), capture_output=True, text=True,
                          timeout=timeout, check=check)


def installed_size(root: Path, python: str, dists: list[str], cpu: str = "cortex-a72") -> dict[str, int]:
    """Bytes on disk of each installed distribution (its RECORD files, in the root's interpreter `python`)."""
    code = ("import importlib.metadata as m, json, os, sys\n"
            "out = {}\n"
            "for d in sys.argv[1:]:\n"
            "    dist = m.distribution(d)\n"
            "    out[d] = sum(os.path.getsize(f.locate()) for f in dist.files if os.path.isfile(f.locate()))\n"
            "print(json.dumps(out))\n")
    r = run(root, [python, "-c", code, *dists], cpu, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("root", help="make or reuse the cached root tarball")
    r.add_argument("--suite", default="bookworm", choices=sorted(SUITES))
    w = sub.add_parser("wheels", help="download aarch64 wheels (cached)")
    w.add_argument("requirements", nargs="+")
    w.add_argument("--python", default="3.11")
    s = sub.add_parser("shell", help="an interactive shell in a fresh copy of the root")
    s.add_argument("--suite", default="bookworm", choices=sorted(SUITES))
    s.add_argument("--cpu", default="cortex-a53")
    args = ap.parse_args(argv)
    missing = missing_requirements()
    if missing:
        print(f"board_root: missing {', '.join(missing)} (apt-get install {' '.join(APT)})", file=sys.stderr)
        return 2
    if args.cmd == "root":
        print(root_tarball(args.suite))
    elif args.cmd == "wheels":
        print(download_wheels(args.requirements, args.python))
    else:
        enable_binfmt()
        dest = Path(tempfile.mkdtemp(prefix="edgepack-board-"))
        extract(root_tarball(args.suite), dest)
        print(f"root at {dest} (QEMU_CPU={args.cpu}); remove it with: rm -rf {dest}", file=sys.stderr)
        return subprocess.call([shutil.which("chroot") or "/usr/sbin/chroot", str(dest), "/bin/bash"],
                               env=chroot_env(args.cpu))
    return 0


if __name__ == "__main__":
    sys.exit(main())
