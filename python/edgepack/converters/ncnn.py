"""ONNX -> ncnn through pnnx (the official converter; a standalone executable inside the `pnnx` wheel).
pnnx runs as a child process. pnnx renames tensors to in0../out0.. in graph order; the artifact records the
mapping back to the ONNX names. Layers that ncnn cannot run are reported with the ONNX node they came from.
fp16 artifacts: pnnx writes fp32 weights and edgepack stores them as fp16 itself, keeping in fp32 the layers
fp16 would damage (converters/ncnn_fp16.py); the artifact's options name them."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgepack.converters.base import Converter, run_tool
from edgepack.converters.prepare import MAX_PNNX_OPSET, PreparedModel
from edgepack.errors import ConversionError, EngineUnavailableError, InputError, UnsupportedOpError
from edgepack.formats.ncnn.param import ParamFile, read_param
from edgepack.runtime._fsutil import private_prefix
from edgepack.runtime.artifact import Artifact, TensorInfo

_PNNX_DTYPE = {"float32": "f32", "float64": "f64", "float16": "f16", "int32": "i32", "int64": "i64",
               "int16": "i16", "int8": "i8", "uint8": "u8", "bool": "bool"}


def pnnx_executable() -> Path:
    """The pnnx binary shipped in the pnnx wheel, found without importing the package (which pulls torch)."""
    spec = importlib.util.find_spec("pnnx")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailableError("the ncnn converter pnnx is not installed; install it with: pip install pnnx")
    exe = Path(list(spec.submodule_search_locations)[0]) / ("pnnx.exe" if sys.platform == "win32" else "pnnx")
    if not exe.exists():
        raise EngineUnavailableError(f"pnnx executable missing at {exe}; reinstall with: "
                                     "pip install --force-reinstall pnnx")
    return exe


class PnnxConverter(Converter):
    name = "pnnx"
    engine = "ncnn"

    def version(self) -> str:
        try:
            return importlib.metadata.version("pnnx")
        except importlib.metadata.PackageNotFoundError:
            return "unknown"

    def convert(self, prepared: PreparedModel, out_dir: Path, precision: str) -> Artifact:
        exe = pnnx_executable()
        if prepared.opset > MAX_PNNX_OPSET:
            raise ConversionError(f"ncnn: pnnx cannot read ONNX opset {prepared.opset} (max {MAX_PNNX_OPSET}); "
                                  "re-export the model with opset <= 17")
        for t in prepared.inputs:
            if np.dtype(t.dtype).kind != "f":
                raise UnsupportedOpError("ncnn", "Input", t.name, f"ncnn takes float inputs only, this one is "
                                         f"{t.dtype}")
            if len(t.shape) == 0:
                raise ConversionError(f"ncnn: pnnx cannot express the 0-d input '{t.name}'; give it shape [1]")
            if len(t.shape) > 5 or (len(t.shape) == 5 and t.shape[0] != 1):
                raise ConversionError(f"ncnn: input '{t.name}' has shape {t.shape}; ncnn handles at most 4 "
                                      "dims after a batch of 1")
        shapes = ",".join("[" + ",".join(map(str, t.shape)) + "]" + _PNNX_DTYPE.get(t.dtype, "f32")
                          for t in prepared.inputs)
        out_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=private_prefix("pnnx")) as tmp:
            src = Path(tmp) / "model.onnx"
            shutil.copyfile(prepared.path, src)
            log = run_tool([str(exe), "model.onnx", f"inputshape={shapes}", "fp16=0", "device=cpu"], Path(tmp),
                           "ncnn converter pnnx")
            param, binf = Path(tmp) / "model.ncnn.param", Path(tmp) / "model.ncnn.bin"
            if not param.exists() or not binf.exists():
                raise ConversionError(f"ncnn: pnnx wrote no .param/.bin; its output ended: {log[-400:]}")
            graph = read_param(param)  # parsed once: layer check here, blob names below
            _check_layers(graph, prepared)
            if precision == "fp16":
                options = _write_fp16(param, binf, out_dir, lambda: run_tool(
                    [str(exe), "model.onnx", f"inputshape={shapes}", "fp16=1", "device=cpu"], Path(tmp),
                    "ncnn converter pnnx"))
            else:
                options = {}
                shutil.copyfile(param, out_dir / "model.ncnn.param")
                shutil.copyfile(binf, out_dir / "model.ncnn.bin")
        seconds = time.perf_counter() - t0
        ins, outs = _blob_names(graph)
        if len(ins) != len(prepared.inputs) or len(outs) != len(prepared.outputs):
            raise ConversionError(f"ncnn: pnnx produced {len(ins)} inputs/{len(outs)} outputs, the model has "
                                  f"{len(prepared.inputs)}/{len(prepared.outputs)}; a graph input or output "
                                  "was folded away or is unsupported")
        art = Artifact(
            engine="ncnn", precision=precision, directory=str(out_dir),
            files={"param": "model.ncnn.param", "bin": "model.ncnn.bin"},
            inputs=[TensorInfo(t.name, t.shape, t.dtype, e, "NCHW" if len(t.shape) == 4 else "")
                    for t, e in zip(prepared.inputs, ins)],
            outputs=[TensorInfo(t.name, t.shape, t.dtype, e, "NCHW" if len(t.shape) == 4 else "")
                     for t, e in zip(prepared.outputs, outs)],
            converter=self.name, converter_version=self.version(), convert_seconds=seconds, options=options)
        art.finalize()
        return art


def _write_fp16(param: Path, binf: Path, out_dir: Path, pnnx_fp16: Callable[[], object]) -> dict[str, str]:
    """The fp16 .param/.bin from pnnx's fp32 ones; options record the weight storage and the fp32 layers.
    A model with a layer whose weight layout edgepack cannot read gets pnnx's own fp16 storage, unchecked."""
    from edgepack.converters.ncnn_fp16 import to_fp16
    from edgepack.formats.ncnn import read_model, write_model

    try:
        model = read_model(param, binf)
    except InputError as e:
        pnnx_fp16()
        shutil.copyfile(param, out_dir / "model.ncnn.param")
        shutil.copyfile(binf, out_dir / "model.ncnn.bin")
        return {"fp16_weights": f"pnnx, not checked ({e})"}
    kept = to_fp16(model)
    write_model(model, out_dir / "model.ncnn.param", out_dir / "model.ncnn.bin")
    opts = {"fp16_weights": "edgepack, round to nearest"}
    if kept:
        opts["fp32_layers"] = "; ".join(k.describe() for k in kept)
    return opts


def _blob_names(graph: ParamFile) -> tuple[list[str], list[str]]:
    ins = [ly.tops[0] for ly in graph.layers if ly.type == "Input"]
    consumed = {b for ly in graph.layers for b in ly.bottoms}
    outs = [t for ly in graph.layers for t in ly.tops if t not in consumed]
    # pnnx names outputs out0, out1, ... in graph-output order
    outs.sort(key=lambda s: (not s.startswith("out"), int(s[3:]) if s[3:].isdigit() else 0, s))
    ins.sort(key=lambda s: (not s.startswith("in"), int(s[2:]) if s[2:].isdigit() else 0, s))
    return ins, outs


# ncnn's recurrent layers read their weights from the .bin (param 1 = weight_data_size); pnnx writes them
# without it, weights arriving as MemoryData inputs, when it did not match the exporter's pattern, and ncnn
# then refuses to load the .param ("layer load_param ... failed").
_RECURRENT = {"LSTM", "GRU", "RNN"}


def _check_layers(graph: ParamFile, prepared: PreparedModel) -> None:
    import ncnn

    for ly in graph.layers:
        if ly.type in _RECURRENT and not ly.get(1, 0):
            node = _onnx_node_for(prepared, ly.type, ly.name)
            raise UnsupportedOpError("ncnn", node[1] if node else ly.type, node[0] if node else ly.name,
                                     f"pnnx wrote this {ly.type} with its weights as {len(ly.bottoms) - 1} "
                                     "separate inputs, a form ncnn's layer cannot load")
    for typ, name in ((ly.type, ly.name) for ly in graph.layers):
        # layer_to_index knows every layer name ncnn has ever had; create_layer says whether this build has it
        if ncnn.create_layer(typ) is None:
            op = typ.split(".")[-1]
            node = _onnx_node_for(prepared, op, name)
            raise UnsupportedOpError("ncnn", node[1] if node else typ, node[0] if node else name,
                                     f"pnnx left it as '{typ}', which ncnn has no layer for")


def _onnx_node_for(prepared: PreparedModel, op: str, layer_name: str) -> tuple[str, str] | None:
    import onnx

    nodes = onnx.load(str(prepared.path), load_external_data=False).graph.node
    for n in nodes:
        if n.name and (n.name == layer_name or n.name.replace("/", "_") in layer_name):
            return n.name, n.op_type
    for n in nodes:
        if n.op_type.lower() == op.lower() or op.lower().endswith(n.op_type.lower()):
            return n.name or "(unnamed)", n.op_type
    return None
