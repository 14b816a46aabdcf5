"""int8 quantization: calibration data, observers, per-engine int8 builders and the accuracy gate.
Adding an engine = one builder file + one line in BUILDERS."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from edgepack.errors import InputError, ModelError
from edgepack.quantize.gate import Gate
from edgepack.runtime.pipeline.spec import PreprocessSpec

BUILDERS: dict[str, tuple[str, str]] = {
    "ncnn": ("edgepack.quantize.ncnn", "NcnnInt8"),
    "mnn": ("edgepack.quantize.mnn", "MnnInt8"),
    "tflite": ("edgepack.quantize.litert", "LiteRtInt8"),
    "openvino": ("edgepack.quantize.openvino", "OpenVinoInt8"),
}

# ONNX ops that mean the model is already quantized (QDQ or integer ops).
QUANTIZED_OPS = {"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "QLinearConv", "QLinearMatMul",
                 "ConvInteger", "MatMulInteger", "QLinearAdd", "QLinearMul"}


@dataclass
class QuantizeOptions:
    """What int8 conversion needs: calibration data (folder of images or .npz), optionally held-out data and
    a gate; the observer for activations; engine-specific switches."""

    calib: str | Path | None = None
    eval: str | Path | None = None
    gate: str | None = None
    observer: str = "kl"
    # the bundle's spec, or overrides (mean, std, color, resize, ...) of the one derived from the input's shape
    preprocess: PreprocessSpec | dict | None = None
    calib_limit: int | None = 200
    mnn_weight_only: bool = False
    litert_int8_io: bool = False

    def parsed_gate(self) -> Gate | None:
        return Gate.parse(self.gate) if self.gate else None


def get_builder(engine: str):
    if engine not in BUILDERS:
        raise InputError(f"int8 is not available for {engine}; choose from {', '.join(BUILDERS)}")
    module, cls = BUILDERS[engine]
    return getattr(importlib.import_module(module), cls)


def check_not_quantized(model_path: str | Path) -> None:
    import onnx

    m = onnx.load(str(model_path), load_external_data=False)
    found = sorted({n.op_type for n in m.graph.node if n.op_type in QUANTIZED_OPS})
    if found:
        raise ModelError(f"the model is already quantized (it contains {', '.join(found)}); pass the float "
                         "model to quantize it, or convert it without --precision int8")
    ints = [i.name for i in m.graph.initializer if i.data_type in (onnx.TensorProto.INT8, onnx.TensorProto.UINT8)]
    if ints:
        raise ModelError(f"the model is already quantized (int8 weights such as '{ints[0]}'); pass the float model")
