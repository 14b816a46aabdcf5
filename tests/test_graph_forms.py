"""Graph forms (converters/forms.py): every converter gets the form it handles best, never one worse than
the user's own file. Proved on architectures exported from plain torch (tests/fixtures/zoo, built by
tools/make_zoo.py from tools/zoo_sequence.py) and on PP-OCRv4 rec, each checked against raw pnnx on the same
file: where pnnx alone converts, edgepack converts with parity too."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from graph_forms_util import raw_pnnx_cosine, raw_pnnx_layers

import edgepack
from edgepack.converters.forms import FORMS, parse_forms
from edgepack.errors import InputError, UnsupportedOpError

ZOO = Path(__file__).parent / "fixtures" / "zoo"
# model: (input shape, what pnnx does on edgepack's onnxslim-prepared graph)
TORCH_EXPORTED = {
    "crnn_bilstm": [1, 1, 16, 48],  # 2-layer bidirectional LSTM, initial states from an Expand
    "vit_tiny": [1, 3, 32, 32],     # patch embed, LayerNorm, qkv reshape/permute attention
    "svtr_tiny": [1, 3, 16, 64],    # PP-OCR-like SVTR blocks
}


@pytest.mark.parametrize("model", sorted(TORCH_EXPORTED))
def test_ncnn_converts_wherever_raw_pnnx_does(model, tmp_path):
    shape = TORCH_EXPORTED[model]
    raw = raw_pnnx_layers(ZOO / f"{model}.onnx", shape, tmp_path / "raw")
    assert not raw["unsupported"] and not raw["recurrent_without_weights"], raw
    assert raw_pnnx_cosine(ZOO / f"{model}.onnx", shape, tmp_path / "raw2") >= 0.9999
    res = edgepack.convert(ZOO / f"{model}.onnx", to="ncnn", precision="fp32", out_dir=tmp_path / "o")
    r = res.results[0]
    assert r.ok and r.parity.overall.cosine >= 0.9999, r.parity.overall
    doc = json.loads((tmp_path / "o" / "convert.json").read_text())
    art = doc["artifacts"][0]
    assert art["graph_form"] == r.form
    tried = [a["form"] for a in art.get("graph_form_attempts", [{"form": r.form}])]
    assert tried[-1] == r.form and tried == list(FORMS)[:len(tried)]
    assert not (tmp_path / "o" / ".work").exists()
    assert not any(p.name.startswith("ncnn-fp32.form-") for p in (tmp_path / "o").iterdir())


def test_slim_only_names_the_real_cause_for_lstm_weights(tmp_path):
    """Held to the onnxslim graph alone, pnnx writes the LSTM weights as MemoryData inputs: the error says so
    (ncnn would report the .param as failing to load, which reads like a corrupt file)."""
    try:
        edgepack.convert(ZOO / "crnn_bilstm.onnx", to="ncnn", out_dir=tmp_path / "o", graph_forms="slim")
    except UnsupportedOpError as e:
        assert "LSTM" in str(e) and "separate inputs" in str(e)
    else:  # onnxslim/pnnx improved: then the default path must not have needed a retry either
        res = edgepack.convert(ZOO / "crnn_bilstm.onnx", to="ncnn", out_dir=tmp_path / "o2")
        assert res.results[0].form == "slim"
    assert not (tmp_path / "o").exists()


def test_every_form_failing_reports_each_and_leaves_nothing(tmp_path):
    """layernorm_attention is a real pnnx limit (test_zoo checks raw pnnx): all forms fail, the error names
    the first form's cause and what the others gave, and no output is left behind."""
    with pytest.raises(UnsupportedOpError) as e:
        edgepack.convert(ZOO / "layernorm_attention.onnx", to="ncnn", out_dir=tmp_path / "o")
    msg = str(e.value)
    assert "Tensor.reshape" in msg or "torch.unbind" in msg
    assert "also tried slim-noshape graph" in msg and "fixed graph" in msg
    assert not (tmp_path / "o").exists()


def test_keep_going_records_the_attempts(tmp_path):
    res = edgepack.convert(ZOO / "layernorm_attention.onnx", to="ncnn,mnn", out_dir=tmp_path / "o", keep_going=True)
    ncnn, mnn = res.results
    assert ncnn.error and ncnn.artifact is None
    assert mnn.ok and mnn.form == "slim"


def test_parse_forms():
    assert parse_forms(None) == tuple(FORMS)
    assert parse_forms("fixed,slim") == ("fixed", "slim")
    with pytest.raises(InputError, match="unknown graph form"):
        parse_forms("bogus")


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("rapidocr_onnxruntime") is None,
                    reason="needs the rapidocr-onnxruntime package (PP-OCRv4 models): pip install rapidocr-onnxruntime")
def test_ppocrv4_rec_converts_to_ncnn_like_raw_pnnx(tmp_path):
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    rec = Path(list(spec.submodule_search_locations)[0]) / "models" / "ch_PP-OCRv4_rec_infer.onnx"
    shape = [1, 3, 48, 320]
    raw = raw_pnnx_layers(rec, shape, tmp_path / "raw")
    assert not raw["unsupported"], raw
    res = edgepack.convert(rec, to="ncnn", precision="fp32", out_dir=tmp_path / "o", input_shapes={"x": shape})
    r = res.results[0]
    assert r.ok and r.parity.overall.cosine >= 0.9999, (r.form, r.parity.overall)
