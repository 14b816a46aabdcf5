"""`edgepack wheelhouse`: an offline install set for a board. Fast tests cover the refusals (non-empty output,
no engine left on the board, a runtime wheel for another board, no index reachable); slow ones build the set
for this machine (linux_x86_64) and for an emulated Raspberry Pi 4 (linux_aarch64 under qemu cortex-a72, in
the Debian 12 arm64 root of tools/board_root.py), install it there with install.sh and no network, and
check that the model's console script prints the classification this machine computes."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import run_cli
from deploy_helpers import ROOT, clean_env, digit_images, pack_digits, results, same_classification


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return pack_digits(tmp_path_factory.mktemp("wheelhouse") / "digits.edgepack")


def _leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(".")]


def _tiny_runtime_wheel(dest: Path, platform: str) -> Path:
    """A wheel file named and described like the runtime's (its METADATA only): enough for the checks that
    run before pip is asked for anything."""
    path = dest / f"edgepack-0.1.0-cp311-cp311-{platform}.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("edgepack-0.1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: edgepack\nVersion: 0.1.0\n"
                    "Requires-Dist: numpy>=1.23\nProvides-Extra: images\nRequires-Dist: Pillow>=10; extra == "
                    "'images'\nProvides-Extra: ncnn\nRequires-Dist: ncnn; extra == 'ncnn'\n")
    return path


def test_non_empty_output_needs_force(bundle, tmp_path):
    out = tmp_path / "wh"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    r = run_cli("wheelhouse", str(bundle), "--platform", "linux_aarch64", "-o", str(out))
    assert r.returncode == 2 and "is not empty; pass --force" in r.stderr and "Traceback" not in r.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_no_installable_engine_left_is_one_clear_line(bundle, tmp_path):
    r = run_cli("wheelhouse", str(bundle), "--platform", "linux_armv7l", "--engines", "mnn", "-o",
                str(tmp_path / "wh"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "no artifact of digits.edgepack can run on linux_armv7l cp311 glibc 2.36 (mnn: mnn publishes no " \
           "armv7l wheels)" in r.stderr
    assert not (tmp_path / "wh").exists() and _leftovers(tmp_path) == []


def test_armv7l_runtime_wheel_is_not_built_blind_and_the_line_says_how(bundle, tmp_path):
    """A 32-bit board's module needs its own pyconfig.h, which this machine does not have: one line naming the
    build command and --runtime-wheel, before any compiler runs (tests/test_board_armv7l.py does that build)."""
    r = run_cli("wheelhouse", str(bundle), "--platform", "linux_armv7l", "-o", str(tmp_path / "wh"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the runtime wheel for linux_armv7l needs the board's own Python headers")
    assert "--python-include DIR" in last and "--runtime-wheel FILE" in last
    assert not (tmp_path / "wh").exists() and _leftovers(tmp_path) == []


def test_dropped_artifacts_warn_and_a_runtime_wheel_for_another_board_is_refused(bundle, tmp_path):
    wheel = _tiny_runtime_wheel(tmp_path, "linux_x86_64")
    r = run_cli("wheelhouse", str(bundle), "--platform", "linux_armv7l", "--runtime-wheel", str(wheel), "-o",
                str(tmp_path / "wh"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines[0] == ("warning: dropped mnn-fp32: no installable engine on linux_armv7l cp311 glibc 2.36: mnn "
                        "publishes no armv7l wheels")
    assert lines[-1].startswith("error: --runtime-wheel: 'edgepack-0.1.0-cp311-cp311-linux_x86_64.whl' does not "
                                "install on linux_armv7l cp311")
    assert not (tmp_path / "wh").exists() and _leftovers(tmp_path) == []


def test_unreachable_index_is_a_clear_error_and_leaves_nothing(bundle, tmp_path):
    wheel = _tiny_runtime_wheel(tmp_path, "manylinux_2_17_aarch64")
    env = dict(os.environ, PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL="http://127.0.0.1:9/simple", PIP_FIND_LINKS="",
               PIP_EXTRA_INDEX_URL="", PIP_RETRIES="0", PIP_DEFAULT_TIMEOUT="3", PIP_NO_CACHE_DIR="1")
    r = subprocess.run([sys.executable, "-m", "edgepack", "wheelhouse", str(bundle), "--platform", "linux_aarch64",
                        "--engines", "ncnn", "--runtime-wheel", str(wheel), "-o", str(tmp_path / "wh")],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error: pip could not reach the package index (") and "--find-links DIR" in last
    assert "linux_aarch64 cp311" in last
    assert not (tmp_path / "wh").exists() and _leftovers(tmp_path) == []


def _wheelhouse(bundle: Path, out: Path, platform: str, python: str) -> subprocess.CompletedProcess:
    r = run_cli("wheelhouse", str(bundle), "--platform", platform, "--python", python, "-o", str(out))
    assert r.returncode == 0, r.stderr
    print(r.stdout)
    names = {p.name for p in out.iterdir()}
    assert "install.sh" in names and "digits-1-py3-none-any.whl" in names
    assert any(n.startswith("edgepack-0.1.0-") for n in names) and any(n.startswith("numpy-") for n in names)
    assert "total" in r.stdout and _leftovers(out.parent) == []
    return r


def _no_network() -> list[str]:
    """`unshare -n` (a network namespace with nothing in it) when this machine allows it."""
    ok = shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
    return ["unshare", "-n"] if ok else []


def _host_results(bundle: Path, images: list[Path]) -> dict:
    import edgepack

    with edgepack.load(bundle) as s:
        return results("\n".join(f"{p}: {s.run(p)}" for p in images))


@pytest.mark.slow
def test_x86_64_wheelhouse_installs_offline_in_a_clean_venv(bundle, tmp_path):
    py = f"{sys.version_info[0]}.{sys.version_info[1]}"
    _wheelhouse(bundle, tmp_path / "wh", "linux_x86_64", py)
    venv = tmp_path / "venv"
    r = subprocess.run([*_no_network(), "bash", str(tmp_path / "wh" / "install.sh"), str(venv)], capture_output=True,
                       text=True, env=clean_env(PYTHON=getattr(sys, "_base_executable", sys.executable)))
    assert r.returncode == 0, r.stderr + r.stdout
    images = digit_images(tmp_path / "images")
    run = subprocess.run([*_no_network(), str(venv / "bin" / "digits"), *map(str, images)], capture_output=True,
                         text=True, env=clean_env(), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    print(run.stdout)
    got, want = results(run.stdout), _host_results(bundle, images)
    assert sorted(got) == sorted(want) and all(same_classification(got[k], want[k]) for k in want)


@pytest.mark.slow
@pytest.mark.parametrize("cpu", ["cortex-a72"])
def test_aarch64_wheelhouse_installs_offline_on_an_emulated_pi(bundle, tmp_path, cpu):
    tools = ROOT / "tools"
    if not (tools / "board_root.py").is_file() or not (tools / "build_wheels.py").is_file():
        pytest.skip("needs tools/board_root.py and tools/build_wheels.py (the board issue's emulated root and "
                    "cross build)")
    sys.path.insert(0, str(tools))
    import board_root

    missing = board_root.missing_requirements()
    missing += [m for m in ("ziglang", "auditwheel") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install {' '.join(board_root.APT)}; the cross build: "
                    "pip install 'edgepack[build]')")
    _wheelhouse(bundle, tmp_path / "wh", "linux_aarch64", "3.11")
    images = digit_images(tmp_path / "images")
    want = _host_results(bundle, images)
    board_root.enable_binfmt()
    root = board_root.extract(board_root.root_tarball(), tmp_path / "root")
    try:
        shutil.copytree(tmp_path / "wh", root / "opt" / "wh")
        shutil.copytree(tmp_path / "images", root / "opt" / "images")
        env = board_root.chroot_env(cpu)

        def in_root(*cmd: str) -> subprocess.CompletedProcess:
            chroot = shutil.which("chroot") or "/usr/sbin/chroot"
            return subprocess.run([*_no_network(), chroot, str(root), *cmd], capture_output=True, text=True,
                                  env=env, timeout=1800)

        r = in_root("bash", "/opt/wh/install.sh", "/opt/venv")
        assert r.returncode == 0, r.stderr + r.stdout
        run = in_root("/opt/venv/bin/digits", *(f"/opt/images/{p.name}" for p in images))
        assert run.returncode == 0, run.stderr
        print(f"QEMU_CPU={cpu}:\n{run.stdout}")
        got = results(run.stdout)
        assert sorted(got) == sorted(want) and all(same_classification(got[k], want[k]) for k in want)
    finally:
        shutil.rmtree(root, ignore_errors=True)
