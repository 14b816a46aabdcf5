"""Convert + parity on the architecture zoo (tests/fixtures/zoo, built by tools/make_zoo.py).
fp32 cosine >= 0.9999 and fp16 >= 0.999 vs ONNX Runtime, unless an engine truly lacks an op (explicit xfail)."""

from __future__ import annotations

from pathlib import Path

import pytest

import edgepack
from edgepack.errors import UnsupportedOpError

ZOO = Path(__file__).parent / "fixtures" / "zoo"
MODELS = sorted(p.stem for p in ZOO.glob("*.onnx"))

# Engine limits found by this suite; each is a fact about the engine, not about edgepack.
KNOWN_GAPS = {
    ("layernorm_attention", "ncnn"): "ncnn tensors have at most 4 dims; the qkv split reshapes to 5-D "
                                     "[1,16,3,heads,dim], which pnnx leaves as Tensor.reshape/torch.unbind",
}


def test_zoo_is_complete():
    expected = {"inverted_residual", "resnet_bn", "channel_shuffle", "se_hardswish", "upsample_concat_head",
                "convtranspose_bilinear", "layernorm_attention", "lstm"}
    assert expected <= set(MODELS)
    for m in MODELS:
        assert (ZOO / f"{m}.onnx").stat().st_size < 1_000_000


TARGET = {"litert": "tflite"}  # engine -> the --to name of its converter, where they differ


@pytest.mark.parametrize("engine", ["ncnn", "mnn", "litert", "openvino"])
@pytest.mark.parametrize("model", MODELS)
def test_zoo_parity(model, engine, tmp_path):
    gap = KNOWN_GAPS.get((model, engine))
    try:
        res = edgepack.convert(ZOO / f"{model}.onnx", to=TARGET.get(engine, engine), precision="fp32,fp16",
                               out_dir=tmp_path / "o")
    except UnsupportedOpError as e:
        if gap:
            pytest.xfail(f"{engine} lacks it: {gap} ({e})")
        raise
    if gap:
        pytest.fail(f"{model} on {engine} now converts: remove it from KNOWN_GAPS")
    for r in res.results:
        limit = 0.9999 if r.precision == "fp32" else 0.999
        ov = r.parity.overall
        assert ov.cosine >= limit, f"{model} {engine} {r.precision}: cosine {ov.cosine:.6f}, max abs {ov.max_abs:.3g}"
        assert r.ok
