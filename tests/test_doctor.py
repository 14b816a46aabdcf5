"""`edgepack doctor [BUNDLE]`: the device report (runtime only), plain text and JSON, sanitised."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest

import edgepack
from conftest import package_root, run_cli

_core = pytest.importorskip("edgepack._core")


def _doctor(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    e = dict(os.environ, PYTHONPATH=package_root() + os.pathsep + os.environ.get("PYTHONPATH", ""), COLUMNS="200")
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "edgepack", "doctor", *args], capture_output=True, text=True,
                          env=e, timeout=300)


def test_report_shows_the_core_view_of_this_cpu():
    r = _doctor("--no-vulkan")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for key in ("edgepack:", "os:", "python:", "libc:", "numpy:", "cpu:", "device class:", "cpu features:",
                "kernel path:", "engines:"):
        assert key in out, key
    assert f"kernel path:          {_core.active_isa()} " in out
    feats = _core.cpu_features()
    if feats["avx2"]:
        assert "AVX2 yes" in out
    assert ("AVX-512F yes" in out) == feats["avx512f"]
    assert "vulkan:               not probed" in out


def test_json_report(digits_bundle):
    r = _doctor("--json", "--no-vulkan", str(digits_bundle))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["kernels"]["active"] == _core.active_isa() and doc["cpu"]["features"] == _core.cpu_features()
    ncnn = next(e for e in doc["engines"] if e["engine"] == "ncnn")
    assert ncnn["installed"] and ncnn["imports"] and ncnn["version"]
    with edgepack.load(digits_bundle) as s:
        assert doc["bundle"]["choice"]["artifact"] == s.choice.key  # what load() really does
    assert doc["bundle"]["references"] == 2


def test_bundle_choice_follows_the_request(digits_bundle):
    r = _doctor("--no-vulkan", str(digits_bundle), "--engine", "mnn", "--precision", "fp16", "--threads", "1")
    assert r.returncode == 0, r.stderr
    assert "load() chooses:       mnn-fp16 on cpu, 1 thread(s)" in r.stdout
    assert "- ncnn-fp32: not requested" in r.stdout


def test_edgepack_isa_is_reported_with_its_note():
    r = _doctor("--no-vulkan", env={"EDGEPACK_ISA": "ref"})
    assert "kernel path:          ref " in r.stdout and "EDGEPACK_ISA=ref" in r.stdout
    other = "neon" if "avx2" in _core.compiled_isas() else "avx2"
    r = _doctor("--no-vulkan", env={"EDGEPACK_ISA": other})
    assert "kernel path:          ref " in r.stdout
    assert "kernel note:" in r.stdout and "using the ref kernels" in r.stdout


def test_text_from_a_bundle_is_sanitised(digits_bundle, tmp_path):
    evil = "digits\x1b]0;owned\x07\x1b[2J\u202efake\nline"
    bad = tmp_path / "evil.edgepack"
    with zipfile.ZipFile(digits_bundle) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "manifest.json":
                doc = json.loads(data)
                doc["model"]["name"] = evil
                data = json.dumps(doc).encode()
            zout.writestr(info, data)
    r = _doctor("--no-vulkan", str(bad))
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\u202e" not in r.stdout and "\x07" not in r.stdout
    assert "digits\\x1b]0;owned" in r.stdout  # shown, escaped, on one line
    assert "\nline" not in r.stdout
    j = _doctor("--no-vulkan", "--json", str(bad))
    assert "\x1b" not in j.stdout and json.loads(j.stdout)["bundle"]["name"] == evil


def test_bad_bundle_prints_the_report_and_exits_2(tmp_path):
    r = _doctor("--no-vulkan", str(tmp_path / "missing.edgepack"))
    assert r.returncode == 2
    assert "engines:" in r.stdout and "not found" in r.stdout
    assert r.stderr.count("error:") == 1 and "Traceback" not in r.stderr
    r = run_cli("doctor", "--threads", "0")
    assert r.returncode == 2 and "--threads=0 is out of range" in r.stderr


def test_an_engine_that_fails_to_import_is_named(tmp_path):
    """A package that is installed but does not import (e.g. a wheel whose glibc needs are not met) is shown
    as such. Here a broken 'MNN' package shadows the real one on the path."""
    broken = tmp_path / "shadow" / "MNN"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('/lib/libc.so.6: version `GLIBC_2.34` not found')\n")
    r = _doctor("--no-vulkan", env={"PYTHONPATH": f"{broken.parent}{os.pathsep}{package_root()}"})
    assert r.returncode == 0, r.stderr
    line = next(ln for ln in r.stdout.splitlines() if ln.strip().startswith("mnn:"))
    assert "FAILS TO IMPORT" in line and "GLIBC_2.34" in line


def test_doctor_needs_only_the_runtime():
    """onnx, onnxruntime, rich and matplotlib blocked: doctor still reports."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('onnxruntime', 'onnx', 'onnxslim', 'rich', 'matplotlib'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from edgepack.cli import main\n"
        "sys.exit(main(['doctor', '--no-vulkan']))\n")
    env = dict(os.environ, PYTHONPATH=package_root() + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "kernel path:" in r.stdout
    # onnxruntime is blocked, so its row says it fails to import: the report itself still completes
    assert "onnxruntime:" in r.stdout


def test_vulkan_devices_are_listed_when_probed():
    if not _core.vulkan_built():
        pytest.skip("core built without Vulkan (needs libvulkan-dev and glslang-tools at build time)")
    r = _doctor()
    assert r.returncode == 0, r.stderr
    names = [d["name"] for d in _core.vulkan_devices()]
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("vulkan (core):"))
    assert all(n in line for n in names) if names else "no device" in line
