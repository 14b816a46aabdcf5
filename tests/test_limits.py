"""Numeric arguments are checked before an engine sees them (issue 14: `run --threads 100000` segfaulted
ncnn and LiteRT after printing the result; MNN at 2**63; `bench --threads 100000` blamed the artifact)."""

from __future__ import annotations

import pytest

import edgepack
from conftest import run_cli
from edgepack.runtime.limits import MAX_THREADS, check_count, check_threads


@pytest.mark.parametrize("bad", [0, -1, MAX_THREADS + 1, 100000, 2**63, 1.5, "4x", True, None])
def test_check_threads_refuses_out_of_range_and_non_integers(bad):
    with pytest.raises(edgepack.InputError, match="threads"):
        check_threads(bad)


def test_check_threads_accepts_the_range():
    assert [check_threads(v) for v in (1, "8", MAX_THREADS)] == [1, 8, MAX_THREADS]
    assert check_count(3, "--runs") == 3


@pytest.mark.parametrize("threads", [100000, 2**63, 0])
def test_load_with_huge_threads_is_an_input_error_for_every_engine(digits_bundle, threads):
    for engine in ("ncnn", "mnn"):
        with pytest.raises(edgepack.InputError, match=r"threads=.* is out of range"):
            edgepack.load(digits_bundle, engine=engine, threads=threads)


def test_engine_load_checks_threads(digits_bundle):
    from edgepack.runtime.bundle.reader import Bundle
    from edgepack.runtime.engines import get_engine

    with Bundle(digits_bundle) as b:
        art = b.artifact("ncnn", "fp32")
        with pytest.raises(edgepack.InputError, match="out of range"):
            get_engine("ncnn").load(art, threads=100000)


@pytest.mark.parametrize("cmd", ["run", "bench"])
def test_cli_threads_100000_is_one_line_exit_2(digits_bundle, tmp_path, cmd):
    from PIL import Image

    from edgepack.demo import load_demo

    img = tmp_path / "d.png"
    Image.fromarray(load_demo().images[0]).save(img)
    args = [cmd, str(digits_bundle), str(img), "--threads", "100000"] if cmd == "run" else \
        [cmd, str(digits_bundle), "--threads", "100000", "-o", str(tmp_path / "b")]
    r = run_cli(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1 and "out of range" in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""  # refused before anything ran
