"""Bundles that cannot work are refused at pack time with the reason (issue 14 §7), one line, exit 2."""

from __future__ import annotations

import pytest

from conftest import DEMO, run_cli, single_op_model


def _one_line_error(r, needle: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout[-800:], r.stderr[-800:])
    assert "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0, r.stderr
    assert needle in r.stderr, r.stderr


@pytest.mark.parametrize("flag,value,needle", [
    ("--mean", "nan,0,0", "non-finite"),
    ("--std", "inf", "non-finite"),
])
def test_non_finite_mean_std_refused(tmp_path, flag, value, needle):
    r = run_cli("pack", str(DEMO), "--to", "ncnn", flag, value, "-o", str(tmp_path / "b.edgepack"))
    _one_line_error(r, needle)
    assert not (tmp_path / "b.edgepack").exists()


def test_empty_labels_file_refused(tmp_path):
    (tmp_path / "labels.txt").write_text("\n\n")
    r = run_cli("pack", str(DEMO), "--to", "ncnn", "--labels", str(tmp_path / "labels.txt"), "-o",
                str(tmp_path / "b.edgepack"))
    _one_line_error(r, "is empty")


@pytest.mark.parametrize("task", ["segment", "detect"])
def test_task_that_cannot_decode_the_output_refused(tmp_path, task):
    r = run_cli("pack", str(DEMO), "--to", "ncnn", "--task", task, "--bench-runs", "0", "-o",
                str(tmp_path / "b.edgepack"))
    _one_line_error(r, f"--task {task} reads output")
    assert not (tmp_path / "b.edgepack").exists()


def test_model_producing_nan_is_named_as_such(tmp_path):
    model = single_op_model(tmp_path / "log.onnx", "Log")  # log of seeded normal inputs: NaN for negatives
    r = run_cli("convert", str(model), "--to", "ncnn", "-o", str(tmp_path / "out"))
    _one_line_error(r, "the model produces NaN/inf on these inputs")
