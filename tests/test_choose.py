"""Automatic artifact choice (bundle/choose.py) on the real digits bundle's manifest with edited benchmarks."""

from __future__ import annotations

import copy

import pytest

from edgepack.errors import BundleError, EngineUnavailableError
from edgepack.runtime.bench.device import describe_device
from edgepack.runtime.bundle.choose import DEFAULT_ORDER, _vulkan_available, choose
from edgepack.runtime.bundle.manifest import Manifest
from edgepack.runtime.bundle.reader import Bundle


@pytest.fixture
def doc(digits_bundle):
    return copy.deepcopy(Bundle(digits_bundle).manifest.doc)


def _bench(doc, latencies: dict[str, float], device=None, kind="cpu", threads=1):
    template = doc["benchmarks"][0]
    doc["benchmarks"] = []
    for key, p50 in latencies.items():
        eng, prec = key.split("-")
        doc["benchmarks"].append({**template, "engine": eng, "precision": prec, "p50_ms": p50, "device_kind": kind,
                                  "threads": threads, "device": device or describe_device()})


def test_fastest_measured_on_this_device_wins(doc):
    _bench(doc, {"ncnn-fp32": 2.0, "ncnn-fp16": 1.0, "mnn-fp32": 3.0, "mnn-fp16": 1.5})
    c = choose(Manifest(doc))
    assert c.key == "ncnn-fp16" and "fastest measured on this CPU model" in c.reason
    _bench(doc, {"ncnn-fp32": 2.0, "ncnn-fp16": 5.0, "mnn-fp32": 0.5, "mnn-fp16": 1.5})
    assert choose(Manifest(doc)).key == "mnn-fp32"
    assert choose(Manifest(doc), precision="fp16").key == "mnn-fp16"
    assert choose(Manifest(doc), engine="ncnn").key == "ncnn-fp32"


def test_same_class_other_cpu_counts_other_class_does_not(doc):
    other_cpu = {**describe_device(), "cpu": "Some Other CPU"}
    _bench(doc, {"mnn-fp16": 1.0, "ncnn-fp32": 2.0}, device=other_cpu)
    c = choose(Manifest(doc))
    assert c.key == "mnn-fp16" and "on this device class" in c.reason
    pi = {"class": "linux-aarch64-neon-fp16-dotprod", "cpu": "Cortex-A76", "machine": "aarch64", "isa": "neon",
          "cores": 4, "os": "Linux"}
    _bench(doc, {"mnn-fp16": 1.0}, device=pi)
    c = choose(Manifest(doc))
    assert "no benchmark from this device class" in c.reason
    in_bundle = {f"{x['engine']}-{x['precision']}" for x in doc["artifacts"]}
    assert c.key == next(k for k in DEFAULT_ORDER[describe_device()["machine"]] if k in in_bundle)
    c = choose(Manifest(doc), device=pi)  # loading on that Pi: its own measurement decides
    assert c.key == "mnn-fp16"


def test_default_order_per_architecture(doc):
    doc["benchmarks"] = []
    arm = {"class": "linux-aarch64-neon", "cpu": "x", "machine": "aarch64", "isa": "neon", "cores": 4, "os": "L"}
    assert choose(Manifest(doc), device=arm).key == "ncnn-fp16"
    x86 = {**arm, "class": "linux-x86_64-avx2", "machine": "x86_64"}
    assert choose(Manifest(doc), device=x86).key == "ncnn-fp32"
    assert choose(Manifest(doc), device=x86, precision="fp16").key == "ncnn-fp16"
    assert choose(Manifest(doc), device=x86, engine="mnn").key == "mnn-fp32"


def test_openvino_place_in_the_default_order():
    """First on x86_64 (measured: tools/bench/openvino_engines.py), after ncnn and MNN on aarch64 (not measured
    on ARM); fp16 last on x86, where its f16 weights cost time."""
    x86, arm = DEFAULT_ORDER["x86_64"], DEFAULT_ORDER["aarch64"]
    assert x86[0] == "openvino-fp32" and x86[-1] == "openvino-fp16"
    assert max(arm.index(k) for k in arm if k.startswith(("ncnn", "mnn"))) < arm.index("openvino-fp16")


def test_failed_verification_and_missing_engines_are_skipped(doc):
    _bench(doc, {"ncnn-fp32": 2.0, "ncnn-fp16": 1.0, "mnn-fp32": 3.0, "mnn-fp16": 1.5})
    for a in doc["artifacts"]:
        if a["engine"] == "ncnn" and a["precision"] == "fp16":
            a["verification"]["passed"] = False
        if a["engine"] == "mnn" and a["precision"] == "fp16":
            a["engine"] = "tensorrt"  # an engine this edgepack does not have
    c = choose(Manifest(doc))
    assert c.key == "ncnn-fp32"
    notes = {x.key: x.note for x in c.candidates}
    assert notes["ncnn-fp16"] == "failed verification against ONNX Runtime"
    assert "not installed" in notes["tensorrt-fp16"]
    assert "ncnn-fp16" in c.explain() and "chosen: ncnn-fp32" in c.explain()
    explicit = choose(Manifest(doc), engine="ncnn", precision="fp16")  # asked for by name: allowed
    assert explicit.key == "ncnn-fp16" and "failed verification" in explicit.candidates[1].note


def test_vulkan_only_when_faster_and_present(doc):
    _bench(doc, {"ncnn-fp32": 2.0})
    doc["benchmarks"] += copy.deepcopy(doc["benchmarks"])
    doc["benchmarks"][1].update(device_kind="vulkan", p50_ms=0.5)
    m = Manifest(doc)
    assert choose(m, vulkan_available=lambda: True).device_kind == "vulkan"
    c = choose(m, vulkan_available=lambda: False)
    assert c.device_kind == "cpu" and "no Vulkan device here" in c.explain()
    assert choose(m).device_kind == ("vulkan" if _vulkan_available() else "cpu")
    doc["benchmarks"][1]["p50_ms"] = 3.0  # slower than the CPU: never chosen, device or not
    assert choose(Manifest(doc), vulkan_available=lambda: True).device_kind == "cpu"


def test_thread_count_closest_to_request(doc):
    _bench(doc, {"ncnn-fp32": 2.0, "mnn-fp32": 3.0}, threads=1)
    four = copy.deepcopy(doc["benchmarks"])
    _bench(doc, {"ncnn-fp32": 2.0, "mnn-fp32": 1.0}, threads=4)
    doc["benchmarks"] = four + doc["benchmarks"]
    assert choose(Manifest(doc), threads=1).key == "ncnn-fp32"
    assert choose(Manifest(doc), threads=4).key == "mnn-fp32"


def test_bad_requests(doc):
    with pytest.raises(BundleError, match="no litert artifact"):
        choose(Manifest(doc), engine="litert")
    with pytest.raises(EngineUnavailableError, match="unknown engine 'tvm'"):
        choose(Manifest(doc), engine="tvm")
    with pytest.raises(BundleError, match="no int8 artifact"):
        choose(Manifest(doc), precision="int8")
    for a in doc["artifacts"]:
        a["verification"]["passed"] = False
    with pytest.raises(BundleError, match="no artifact in this bundle can run here"):
        choose(Manifest(doc))
