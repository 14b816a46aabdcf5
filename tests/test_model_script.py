"""cli/model_script.py, the console script of a model wheel, run on a bundle directly (no install needed):
images, a directory, and the refusals (one line, exit 2, before the model loads)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import package_root
from deploy_helpers import digit_images, pack_digits, results


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return pack_digits(tmp_path_factory.mktemp("script") / "digits.edgepack", to="ncnn")


def _script(bundle: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": package_root(), "LANG": "C.UTF-8"}
    return subprocess.run([sys.executable, "-m", "edgepack.cli.model_script", str(bundle), *args], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300)


def test_images_and_a_directory_print_one_line_each(bundle, tmp_path):
    images = digit_images(tmp_path / "imgs", indices=(3, 7, 11))
    (tmp_path / "imgs" / "notes.txt").write_text("not an image")
    r = _script(bundle, str(images[0]), str(tmp_path / "imgs"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("digits: classify with ncnn fp32")
    lines = [ln for ln in r.stdout.splitlines() if ".png: " in ln]
    assert [ln.split(":")[0] for ln in lines] == [str(images[0])] + [str(p) for p in sorted(images)]
    import edgepack

    with edgepack.load(bundle) as s:
        assert lines[0] == f"{images[0]}: {s.run(images[0])}"
    assert set(results(r.stdout)) == {p.name for p in images}


@pytest.mark.parametrize("args, message", [
    ((), "nothing to run: model IMAGE... | DIR | --camera N"),
    (("x.png", "--camera", "0"), "not both"),
    (("--camera", "-1"), "take numbers >= 0"),
    (("missing.png",), "'missing.png' is not an image file or a directory"),
    (("empty",), "directory 'empty' holds no image files"),
    (("--camera", "9"), "camera 9"),  # no camera here: OpenCV cannot open it, or OpenCV is not installed
])
def test_refusals_are_one_line_exit_2(bundle, tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    r = _script(bundle, *args, cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and message in r.stderr or \
        (args[0] == "--camera" and "--camera needs OpenCV" in r.stderr)
