"""formats.ncnn: pnnx's .param/.bin read and written back byte for byte (fp32 and fp16 storage), tags,
bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from edgepack.converters import get_converter
from edgepack.converters.forms import FORMS, form_model
from edgepack.converters.prepare import prepare
from edgepack.errors import InputError, UnsupportedOpError
from edgepack.formats.ncnn import read_model
from edgepack.formats.ncnn.model import TAG_FP16, parse_model

ZOO = sorted((ROOT / "tests" / "fixtures" / "zoo").glob("*.onnx"))
DEMO = ROOT / "python" / "edgepack" / "demo" / "digits.onnx"
NCNN_RUNNABLE = [p for p in ZOO if p.stem != "layernorm_attention"] + [DEMO]  # pnnx leaves torch ops in that one


@pytest.fixture(scope="module")
def pnnx_outputs(tmp_path_factory) -> list[tuple[str, str, Path, Path]]:
    out = []
    base = tmp_path_factory.mktemp("pnnx")
    for model in NCNN_RUNNABLE:
        prepared = prepare(model, base / model.stem)
        for prec in ("fp32", "fp16"):
            for form in FORMS:  # the graph forms convert tries, in its order (the LSTM needs slim-noshape)
                try:
                    art = get_converter("ncnn").convert(form_model(prepared, form), base / model.stem / prec / form,
                                                        prec)
                    break
                except UnsupportedOpError:
                    continue
            out.append((model.stem, prec, art.path("param"), art.path("bin")))
    return out


def test_pnnx_output_round_trips_byte_for_byte(pnnx_outputs):
    assert len(pnnx_outputs) == 2 * len(NCNN_RUNNABLE)
    for name, prec, param, binf in pnnx_outputs:
        m = read_model(param, binf)
        assert m.param.text() == param.read_text(), (name, prec)
        assert m.bin_bytes() == binf.read_bytes(), (name, prec)


def test_storage_tags_follow_precision(pnnx_outputs):
    for name, prec, param, binf in pnnx_outputs:
        m = read_model(param, binf)
        tagged = [b for blobs in m.weights.values() for b in blobs if b.tagged]
        assert tagged, name
        want = np.float16 if prec == "fp16" else np.float32
        assert all(b.data.dtype == want for b in tagged), (name, prec)
        untagged = [b for blobs in m.weights.values() for b in blobs if not b.tagged]
        assert all(b.data.dtype == np.float32 for b in untagged)


def test_fp16_payload_is_padded_to_four_bytes():
    text = "7767517\n2 2\nInput in 0 1 in\nInnerProduct fc 1 1 in out 0=1 1=0 2=3\n"
    w = np.array([1.5, -2.0, 0.25], np.float16)
    data = TAG_FP16.to_bytes(4, "little") + w.tobytes() + b"\0\0"
    m = parse_model(text, data)
    np.testing.assert_array_equal(m.blob("fc", "weight").data, w)
    assert m.bin_bytes() == data


def test_edit_then_write_changes_only_that_layer(pnnx_outputs, tmp_path):
    name, _, param, binf = next(o for o in pnnx_outputs if o[0] == "digits" and o[1] == "fp32")
    m = read_model(param, binf)
    fc = next(ly for ly in m.param.layers if ly.type == "InnerProduct")
    fc.set(8, 2)
    assert fc.line().endswith(" 8=2") and fc.get(8) == 2
    others = [ly.line() for ly in m.param.layers if ly is not fc]
    text = m.param.text()
    assert all(line in text for line in others)


def test_bad_files_raise_input_error(pnnx_outputs, tmp_path):
    _, _, param, binf = pnnx_outputs[0]
    (tmp_path / "short.bin").write_bytes(binf.read_bytes()[:-8])
    with pytest.raises(InputError, match="ends early|truncated"):
        read_model(param, tmp_path / "short.bin")
    (tmp_path / "long.bin").write_bytes(binf.read_bytes() + b"\0" * 8)
    with pytest.raises(InputError, match="do not belong together"):
        read_model(param, tmp_path / "long.bin")
    (tmp_path / "bad.param").write_text("hello\n")
    with pytest.raises(InputError, match="not an ncnn .param"):
        read_model(tmp_path / "bad.param", binf)
    (tmp_path / "unknown.param").write_text("7767517\n1 1\nFancyLayer x 0 1 a 0=1\n")
    with pytest.raises(InputError, match="FancyLayer"):
        read_model(tmp_path / "unknown.param", binf)
