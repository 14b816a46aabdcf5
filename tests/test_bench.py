"""edgepack bench: measurements in child processes, report files, --record, Session overhead numbers."""

from __future__ import annotations

import json
import shutil

from conftest import run_cli
from edgepack.runtime.bench.device import describe_device
from edgepack.runtime.bench.overhead import load_overhead, measure_session_overhead
from edgepack.runtime.bundle.reader import Bundle


def test_bench_bundle_writes_table_json_png_and_records(digits_bundle, tmp_path):
    bundle = tmp_path / "d.edgepack"
    shutil.copy(digits_bundle, bundle)
    with Bundle(bundle) as b:
        before = b.manifest.doc["benchmarks"]
    foreign = {**before[0], "device": {**before[0]["device"], "class": "linux-aarch64-neon", "cpu": "Cortex-A72"}}
    from edgepack.runtime.bench.measure import BenchResult
    from edgepack.runtime.bench.run import record_into_bundle

    record_into_bundle(bundle, [BenchResult.from_dict(foreign)])  # a result from another device stays
    r = run_cli("bench", str(bundle), "--threads", "1", "--runs", "3", "--no-overhead", "-o", str(tmp_path / "rep"),
                "--record")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "p50 ms" in r.stdout and "recorded 4 results" in r.stdout
    rep = json.loads((tmp_path / "rep/bench.json").read_text())
    assert rep["device"]["class"] == describe_device()["class"] and len(rep["results"]) == 4
    for x in rep["results"]:
        assert 0 < x["p50_ms"] <= x["p90_ms"] <= x["p99_ms"] and x["load_ms"] > 0 and x["runs"] == 3
        assert x["peak_rss_mb"] is not None and x["peak_rss_mb"] >= 0
    assert (tmp_path / "rep/bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Bundle(bundle) as b:
        after = b.manifest.doc["benchmarks"]
        assert b.verify() == []
    assert sum(x["device"]["cpu"] == "Cortex-A72" for x in after) == 1 and len(after) == 5
    r = run_cli("bench", str(bundle), "--runs", "3", "-o", str(tmp_path / "rep"))
    assert r.returncode == 2 and "already exists" in r.stderr


def test_bench_convert_directory(tmp_path, conv_model):
    import edgepack

    edgepack.convert(conv_model, to="ncnn", precision="fp32", out_dir=tmp_path / "out")
    r = run_cli("bench", str(tmp_path / "out"), "--threads", "1,2", "--runs", "3", "-o", str(tmp_path / "rep"))
    assert r.returncode == 0, r.stderr
    rep = json.loads((tmp_path / "rep/bench.json").read_text())
    assert [(x["engine"], x["threads"]) for x in rep["results"]] == [("ncnn", 1), ("ncnn", 2)]
    assert all(x["session_overhead"] is None for x in rep["results"])  # no Session without a bundle


def test_session_and_load_overhead_are_measured(digits_bundle):
    so = measure_session_overhead(digits_bundle, "ncnn", "fp32", 1, runs=5)
    assert so["session_ms"] > 0 and so["engine_ms"] > 0 and so["ratio"] == so["session_ms"] / so["engine_ms"]
    with Bundle(digits_bundle) as b:
        art = b.artifact("mnn", "fp32")
        lo = load_overhead(digits_bundle, art, 1, repeats=1)
    assert lo["session_ms"] > 0 and lo["engine_ms"] > 0


def test_vulkan_rows_and_the_choice_rule(digits_bundle, tmp_path):
    import pytest

    from edgepack.runtime.bundle.choose import _vulkan_available, choose

    if not _vulkan_available():
        pytest.skip("no Vulkan device (apt-get install mesa-vulkan-drivers libvulkan1)")
    bundle = tmp_path / "v.edgepack"
    shutil.copy(digits_bundle, bundle)
    r = run_cli("bench", str(bundle), "--threads", "1", "--runs", "3", "--no-overhead", "--vulkan", "--record",
                "-o", str(tmp_path / "rep"))
    assert r.returncode == 0, r.stderr
    rep = json.loads((tmp_path / "rep/bench.json").read_text())
    vk = [x for x in rep["results"] if x["device_kind"] == "vulkan"]
    assert {x["engine"] for x in vk} == {"ncnn"} and len(vk) == 2
    with Bundle(bundle) as b:
        c = choose(b.manifest, threads=1)
    best_cpu = min(x["p50_ms"] for x in rep["results"] if x["device_kind"] == "cpu")
    assert (c.device_kind == "vulkan") == (min(x["p50_ms"] for x in vk) < best_cpu)  # the rule, whatever the timings
