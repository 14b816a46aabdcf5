"""ONNX -> LiteRT (.tflite) written by edgepack itself: no TensorFlow, no onnx2tf.

load (ir) -> fold constants (fold) -> layout pass NCHW->NHWC (layout) -> one lowering per op (lower, ops/)
-> fp16 weights (fp16) -> flatbuffer (builder) [+ MediaPipe metadata (metadata)] -> model.tflite.

The whole model is built in memory; the file is written (temp name, then rename) only when every node
lowered, so an unsupported op leaves no file."""

from __future__ import annotations

import importlib.metadata
import os
import time
from pathlib import Path

from edgepack.converters.base import Converter
from edgepack.converters.prepare import PreparedModel
from edgepack.errors import InputError
from edgepack.runtime.artifact import Artifact, TensorInfo

IO_LAYOUTS = ("onnx", "nhwc")


class LiteRtConverter(Converter):
    name = "edgepack-litert"
    engine = "litert"

    def __init__(self, io_layout: str = "onnx", metadata: dict | None = None) -> None:
        if io_layout not in IO_LAYOUTS:
            raise InputError(f"unknown LiteRT io layout '{io_layout}'; choose from {', '.join(IO_LAYOUTS)}")
        self.io_layout = io_layout
        # only the keys the metadata writer reads (a demo/spec JSON may carry more)
        self.metadata = {k: v for k, v in metadata.items() if k in METADATA_KEYS} if metadata else None

    def version(self) -> str:
        from edgepack import __version__

        try:
            schema = importlib.metadata.version("ai-edge-litert")
        except importlib.metadata.PackageNotFoundError:
            schema = "unknown"
        return f"{__version__} (schema from ai-edge-litert {schema})"

    def convert(self, prepared: PreparedModel, out_dir: Path, precision: str) -> Artifact:
        t0 = time.perf_counter()
        data, graph = build_tflite(prepared.path, precision, self.io_layout, self.metadata)
        out_dir.mkdir(parents=True, exist_ok=True)
        dst = out_dir / "model.tflite"
        tmp = out_dir / ".model.tflite.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, dst)
        seconds = time.perf_counter() - t0

        def info(t: TensorInfo) -> TensorInfo:
            phys = graph.tensors[t.name]
            layout = "NHWC" if self.io_layout == "nhwc" and len(t.shape) == 4 else (
                "NCHW" if len(t.shape) == 4 else "")
            return TensorInfo(t.name, list(phys.shape), t.dtype, t.name, layout)

        art = Artifact(engine="litert", precision=precision, directory=str(out_dir),
                       files={"model": "model.tflite"}, inputs=[info(t) for t in prepared.inputs],
                       outputs=[info(t) for t in prepared.outputs], converter=self.name,
                       converter_version=self.version(), convert_seconds=seconds,
                       options={"io_layout": self.io_layout, **({"metadata": "mediapipe image classifier"}
                                                                   if self.metadata else {})})
        art.finalize()
        return art


def build_tflite(onnx_path: str | Path, precision: str = "fp32", io_layout: str = "onnx",
                 metadata: dict | None = None):
    """The .tflite bytes for a prepared ONNX file, and the physical graph (for I/O shapes)."""
    from edgepack.converters.litert.builder import ModelBuilder
    from edgepack.converters.litert.fold import fold
    from edgepack.converters.litert.fp16 import weights_to_fp16
    from edgepack.converters.litert.ir import load_graph
    from edgepack.converters.litert.layout import to_physical
    from edgepack.converters.litert.lower import lower

    graph = to_physical(fold(load_graph(onnx_path)), io_layout)
    b = ModelBuilder()
    ins = [b.tensor(n, graph.tensors[n].shape, graph.tensors[n].dtype) for n in graph.inputs]
    lower(graph, b)
    outs = [b.index[n] if n in b.index else b.tensor(n, graph.tensors[n].shape, graph.tensors[n].dtype,
                                                         graph.tensors[n].value) for n in graph.outputs]
    if precision == "fp16":
        weights_to_fp16(b)
    data = b.finish(ins, outs, f"edgepack ({precision}) from {Path(onnx_path).name}",
                    metadata_entries(metadata, graph) if metadata else None)
    if metadata:
        from edgepack.converters.litert.metadata import attach_files

        data = attach_files(data, metadata)
    return data, graph


def metadata_entries(metadata: dict, graph) -> dict[str, bytes]:
    from edgepack.converters.litert.metadata import metadata_buffer

    return {"TFLITE_METADATA": metadata_buffer(metadata, graph)}


METADATA_KEYS = ("input", "output", "mean", "std", "labels", "color", "name", "description")
