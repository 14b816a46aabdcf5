"""ONNX -> OpenVINO IR (.xml graph + .bin weights) through OpenVINO's own ONNX frontend
(`openvino.convert_model`), in a child process (a converter crash must not kill edgepack). fp16 is OpenVINO's
compressed-weight IR (`save_model(compress_to_fp16=True)`): weights stored in f16, the engine computes in f16
where the CPU can. The IR keeps the ONNX tensor names. Ops the frontend cannot convert are reported with the
ONNX node they come from."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import time
from pathlib import Path

from edgepack.converters.base import Converter
from edgepack.converters.prepare import PreparedModel
from edgepack.errors import ConversionError, EngineUnavailableError, UnsupportedOpError
from edgepack.runtime._isolate import call_isolated
from edgepack.runtime.artifact import Artifact, TensorInfo

FILES = {"xml": "model.xml", "bin": "model.bin"}
# OpenVINO's summary lines: "-- No conversion rule found for operations: Det-17, Foo-1" and
# "-- Conversion is failed for: MeanVarianceNormalization-17"
_NO_RULE = re.compile(r"No conversion rule found for operations:\s*(.+)")
_FAILED = re.compile(r"Conversion is failed for:\s*(.+)")
_NODE = re.compile(r"While validating ONNX node '<Node\((\w+)\): ([^>]*)>'")
_WHY = re.compile(r"FrontEnd API failed with \w+:\s*\n?(.+)")


def convert_in_child(onnx_path: str, xml_path: str, fp16: bool) -> dict[str, list[str]]:
    """Runs inside call_isolated: convert, save the IR, return the IR's input and output tensor names in
    order. An OpenVINO conversion failure comes back as ConversionError carrying OpenVINO's own text."""
    from edgepack.runtime.engines.openvino import import_openvino, readable_error

    ov = import_openvino()
    try:
        model = ov.convert_model(onnx_path)
    except Exception as e:  # OpConversionFailure, GeneralFailure...: the text names the ops
        raise ConversionError(f"openvino: {readable_error(str(e))}\n{e}") from None
    ov.save_model(model, xml_path, compress_to_fp16=fp16)
    return {"inputs": [sorted(p.get_names()) for p in model.inputs],
            "outputs": [sorted(p.get_names()) for p in model.outputs]}


class OpenVinoConverter(Converter):
    name = "openvino.convert_model"
    engine = "openvino"

    def version(self) -> str:
        try:
            return importlib.metadata.version("openvino")
        except importlib.metadata.PackageNotFoundError:
            return "unknown"

    def convert(self, prepared: PreparedModel, out_dir: Path, precision: str) -> Artifact:
        if importlib.util.find_spec("openvino") is None:
            raise EngineUnavailableError("the OpenVINO converter is not installed; install it with: "
                                         "pip install openvino")
        out_dir.mkdir(parents=True, exist_ok=True)
        xml = out_dir / FILES["xml"]
        t0 = time.perf_counter()
        try:
            names = call_isolated(convert_in_child, str(prepared.path), str(xml), precision == "fp16",
                                  what="OpenVINO converter")
        except ConversionError as e:
            raise unsupported_op(str(e), prepared) or ConversionError(str(e).splitlines()[0]) from None
        seconds = time.perf_counter() - t0
        if not xml.exists() or not (out_dir / FILES["bin"]).exists():
            raise ConversionError("openvino: the converter wrote no .xml/.bin")
        ins = _match(prepared.inputs, names["inputs"], "input")
        outs = _match(prepared.outputs, names["outputs"], "output")
        art = Artifact(
            engine="openvino", precision=precision, directory=str(out_dir), files=dict(FILES),
            inputs=[TensorInfo(t.name, t.shape, t.dtype, t.name, "NCHW" if len(t.shape) == 4 else "") for t in ins],
            outputs=[TensorInfo(t.name, t.shape, t.dtype, t.name, "NCHW" if len(t.shape) == 4 else "")
                     for t in outs],
            converter=self.name, converter_version=self.version(), convert_seconds=seconds)
        art.finalize()
        return art


def _match(tensors: list[TensorInfo], ports: list[list[str]], what: str) -> list[TensorInfo]:
    """Every ONNX tensor must be a named port of the IR (OpenVINO keeps the names)."""
    have = {n for names in ports for n in names}
    missing = [t.name for t in tensors if t.name not in have]
    if missing or len(ports) != len(tensors):
        raise ConversionError(f"openvino: the IR's {what}s {ports} do not carry the ONNX {what} names "
                              f"{[t.name for t in tensors]}; a graph {what} was folded away or is unsupported")
    return tensors


def unsupported_op(message: str, prepared: PreparedModel) -> UnsupportedOpError | None:
    """The first op OpenVINO's summary names, tied to its ONNX node; None if the text names no op."""
    import onnx

    found = _NO_RULE.search(message) or _FAILED.search(message)
    if not found:
        return None
    ops = [re.sub(r"-\d+$", "", o.strip()) for o in found.group(1).split(",") if o.strip()]
    op = ops[0].split(".")[-1] if ops else "?"
    nodes = list(_all_nodes(onnx.load(str(prepared.path), load_external_data=False).graph))
    node = _NODE.search(message)
    match = next((n for n in nodes if n.op_type == op and node and node.group(2) in n.output), None)
    match = match or next((n for n in nodes if n.op_type == op), None)
    why = _WHY.search(message.split("Summary:")[0].split("with a message:")[-1])
    detail = "OpenVINO's ONNX frontend has no conversion rule for it" if found.re is _NO_RULE else \
        f"OpenVINO's ONNX frontend failed on it ({why.group(1).strip()[:200] if why else 'no reason given'})"
    label = "?" if match is None else match.name or f"(unnamed, output {match.output[0] if match.output else '?'})"
    return UnsupportedOpError("openvino", op, label, detail)


def _all_nodes(graph):
    """The graph's nodes and those of its subgraphs (If/Loop/Scan bodies), depth first."""
    for n in graph.node:
        yield n
        for a in n.attribute:
            for g in ([a.g] if a.HasField("g") else []) + list(a.graphs):
                yield from _all_nodes(g)
