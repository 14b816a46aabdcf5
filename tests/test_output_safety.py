"""Output is complete or absent, never lost (issue 14 §4): one writer per target, stale staging of killed runs
cleaned by the next run (only ours, only dead pids), the source model never inside what -o replaces."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import DEMO, package_root, run_cli
from edgepack.errors import OutputError
from edgepack.runtime._fsutil import atomic_dir, private_tempdir


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_second_writer_of_the_same_output_fails_at_once(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out):
        r = run_cli("convert", str(DEMO), "--to", "ncnn", "-o", str(out))
        assert r.returncode == 2, (r.stdout, r.stderr)
        assert "another edgepack run is writing" in r.stderr and "Traceback" not in r.stderr
    assert out.is_dir()  # the first writer's result landed


def test_stale_staging_of_a_dead_run_is_removed_and_a_live_ones_kept(tmp_path):
    dead, live = _dead_pid(), os.getpid()
    stale = tmp_path / f".out.tmp-{dead}-abc"
    stale_old = tmp_path / f".out.old-{dead}"
    other = tmp_path / f".out.tmp-{live}-xyz"  # a concurrent run of another target name would differ; same pid
    unrelated = tmp_path / f".other.tmp-{dead}-q"
    for d in (stale, stale_old, other, unrelated):
        d.mkdir()
    with atomic_dir(tmp_path / "out") as tmp:
        (tmp / "f").write_text("x")
    assert not stale.exists() and not stale_old.exists()
    assert other.exists() and unrelated.exists()
    assert (tmp_path / "out" / "f").read_text() == "x"


def test_worker_temp_dirs_of_dead_runs_are_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    left = tmp_path / f"edgepack-worker-{_dead_pid()}-zz"
    left.mkdir()
    with private_tempdir("worker") as d:
        assert d.parent == tmp_path and d.name.startswith(f"edgepack-worker-{os.getpid()}-")
    assert not left.exists() and list(tmp_path.iterdir()) == []


def test_output_holding_the_model_is_refused(tmp_path):
    model = tmp_path / "m.onnx"
    shutil.copy(DEMO, model)
    r = run_cli("convert", str(model), "--to", "ncnn", "-o", ".", "--force", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert model.read_bytes() == DEMO.read_bytes()
    with pytest.raises(OutputError, match="contains the input"):
        with atomic_dir(tmp_path, force=True, protect=[model]):
            pass
    assert model.exists()


@pytest.mark.slow
@pytest.mark.parametrize("after", [1.5, 4.0])
def test_kill_9_during_convert_leaves_output_complete_or_absent(tmp_path, after):
    model = tmp_path / "m.onnx"
    shutil.copy(DEMO, model)
    out = tmp_path / "out"
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    env = dict(os.environ, PYTHONPATH=package_root(), TMPDIR=str(tmpdir))
    p = subprocess.Popen([sys.executable, "-m", "edgepack", "convert", str(model), "--to", "ncnn,mnn,tflite",
                          "-o", str(out)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    time.sleep(after)
    os.killpg(p.pid, signal.SIGKILL)  # the whole group: the worker children die too, as with a power cut
    p.wait()
    assert model.read_bytes() == DEMO.read_bytes()
    if out.exists():
        assert (out / "convert.json").is_file()
    r = subprocess.run([sys.executable, "-m", "edgepack", "convert", str(model), "--to", "ncnn", "-o", str(out),
                        "--force"], env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    assert (out / "convert.json").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == []
    assert list(tmpdir.iterdir()) == []


@pytest.fixture
def tiny_fs(tmp_path):
    """A 256 KiB tmpfs (root only): a real full disk, not an injected error."""
    mnt = tmp_path / "full"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root (mount -t tmpfs)")
    yield mnt
    subprocess.run(["umount", str(mnt)], check=False)


@pytest.mark.parametrize("where", ["output", "tmpdir"])
def test_full_disk_is_one_line_and_leaves_nothing(tiny_fs, tmp_path, where):
    env = dict(os.environ, PYTHONPATH=package_root())
    out = tiny_fs / "out" if where == "output" else tmp_path / "out"
    if where == "tmpdir":
        env["TMPDIR"] = str(tiny_fs)
    args = ["convert", str(DEMO), "--to", "ncnn,mnn", "-o", str(out)] if where == "output" else \
        ["pack", str(DEMO), "--to", "ncnn,mnn", "--bench-runs", "0", "-o", str(tmp_path / "b.edgepack")]
    r = subprocess.run([sys.executable, "-m", "edgepack", *args], env=env, capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 2, (r.stdout[-800:], r.stderr[-800:])
    assert "no space left on the device" in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0, r.stderr
    assert list(tiny_fs.iterdir()) == [] and not out.exists() and not (tmp_path / "b.edgepack").exists()
