"""TFLite model metadata that MediaPipe Tasks reads (image classifiers): input normalization, image
properties, and the labels as an associated file.

Facts from the metadata schema (metadata_schema.fbs, file identifier "M001"): a ModelMetadata flatbuffer sits
in a model buffer referenced by the model's `metadata` entry named "TFLITE_METADATA"; associated files are a
zip archive appended after the flatbuffer (the flatbuffer still parses, and readers open the file as a zip).
We write the tables field by field with the flatbuffers builder (slots in declaration order; a union takes a
type slot then a value slot); nothing from MediaPipe is imported, so it is not a dependency.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np

from edgepack.converters.litert.ir import Graph
from edgepack.errors import InputError

FILE_IDENTIFIER = b"M001"
LABELS_FILE = "labels.txt"
MIN_PARSER_VERSION = "1.0.0"  # NormalizationOptions, ImageProperties and associated files are all 1.0.0 fields

# enum values of the schema
_TENSOR_AXIS_LABELS = 2
_RGB, _GRAYSCALE = 1, 2
_CONTENT_FEATURE, _CONTENT_IMAGE = 1, 2  # union ContentProperties
_PU_NORMALIZATION = 1  # union ProcessUnitOptions


def check_spec(spec: dict, graph: Graph) -> dict:
    """Validate a metadata spec ({"mean": [...], "std": [...], "labels": [...], optional "input", "output",
    "color", "name", "description"}) against the model; returns it with input/output names filled in."""
    spec = dict(spec)
    ins, outs = graph.inputs, graph.outputs
    spec.setdefault("input", ins[0])
    spec.setdefault("output", outs[0])
    if spec["input"] not in ins:
        raise InputError(f"metadata names input '{spec['input']}', the model's inputs are {ins}")
    if spec["output"] not in outs:
        raise InputError(f"metadata names output '{spec['output']}', the model's outputs are {outs}")
    shape = graph.tensors[spec["input"]].shape
    channels = shape[-1] if len(shape) == 4 and shape[-1] in (1, 3) else (shape[1] if len(shape) == 4 else 0)
    for key in ("mean", "std"):
        v = spec.get(key)
        if not isinstance(v, list) or len(v) not in (1, channels) or not all(isinstance(x, (int, float)) for x in v):
            raise InputError(f"metadata '{key}' must be a list of 1 or {channels} numbers (one per channel)")
    if any(s == 0 for s in spec["std"]):
        raise InputError("metadata 'std' holds a zero; normalization divides by it")
    labels = spec.get("labels")
    n_out = int(np.prod(graph.tensors[spec["output"]].shape[1:]))
    if labels is not None and (not isinstance(labels, list) or len(labels) != n_out):
        raise InputError(f"metadata 'labels' must list {n_out} labels, one per score of output "
                         f"'{spec['output']}'")
    if spec.get("color", "RGB") not in ("RGB", "GRAYSCALE"):
        raise InputError("metadata 'color' must be RGB or GRAYSCALE")
    return spec


class _Writer:
    """Small helpers over flatbuffers.Builder for tables of strings, vectors and nested tables."""

    def __init__(self) -> None:
        import flatbuffers

        self.b = flatbuffers.Builder(1024)

    def string(self, s: str | None) -> int | None:
        return None if s is None else self.b.CreateString(s)

    def floats(self, values: list[float]) -> int:
        return self.b.CreateNumpyVector(np.asarray(values, np.float32))

    def offsets(self, offs: list[int]) -> int:
        self.b.StartVector(4, len(offs), 4)
        for o in reversed(offs):
            self.b.PrependUOffsetTRelative(o)
        return self.b.EndVector()

    def table(self, n_slots: int, offsets: dict[int, int | None], bytes_: dict[int, int] | None = None) -> int:
        """A table whose slot i holds offsets[i] (an offset) or bytes_[i] (a byte/enum value)."""
        self.b.StartObject(n_slots)
        for slot, off in offsets.items():
            if off is not None:
                self.b.PrependUOffsetTRelativeSlot(slot, off, 0)
        for slot, v in (bytes_ or {}).items():
            self.b.PrependUint8Slot(slot, v, 0)
        return self.b.EndObject()


def metadata_buffer(spec: dict, graph: Graph) -> bytes:
    """The ModelMetadata flatbuffer (identifier M001) for an image classifier described by `spec`."""
    spec = check_spec(spec, graph)
    w = _Writer()
    in_meta = []
    for name in graph.inputs:
        if name != spec["input"]:
            in_meta.append(w.table(7, {0: w.string(name)}))
            continue
        mean, std = [float(x) for x in spec["mean"]], [float(x) for x in spec["std"]]
        norm = w.table(2, {0: w.floats(mean), 1: w.floats(std)})  # NormalizationOptions
        unit = w.table(2, {1: norm}, {0: _PU_NORMALIZATION})  # ProcessUnit {options_type, options}
        img = w.table(2, {}, {0: _RGB if spec.get("color", "RGB") == "RGB" else _GRAYSCALE})  # ImageProperties
        content = w.table(3, {1: img}, {0: _CONTENT_IMAGE})  # Content {type, properties, range}
        lo = [(0.0 - m) / s for m, s in zip(mean, std)]
        hi = [(255.0 - m) / s for m, s in zip(mean, std)]
        stats = w.table(2, {0: w.floats(hi), 1: w.floats(lo)})  # Stats {max, min}
        in_meta.append(w.table(7, {0: w.string(name), 1: w.string("Input image to be classified."),
                                   3: content, 4: w.offsets([unit]), 5: stats}))
    out_meta = []
    for name in graph.outputs:
        if name != spec["output"]:
            out_meta.append(w.table(7, {0: w.string(name)}))
            continue
        files = None
        if spec.get("labels") is not None:
            f = w.table(5, {0: w.string(LABELS_FILE), 1: w.string("Labels for categories that the model can "
                                                                   "recognize.")}, {2: _TENSOR_AXIS_LABELS})
            files = w.offsets([f])
        feature = w.table(0, {})  # FeatureProperties (no fields)
        content = w.table(3, {1: feature}, {0: _CONTENT_FEATURE})
        out_meta.append(w.table(7, {0: w.string(name), 1: w.string("Scores of the labels respectively."),
                                    3: content, 6: files}))
    sub = w.table(10, {2: w.offsets(in_meta), 3: w.offsets(out_meta)})  # SubGraphMetadata
    root = w.table(8, {0: w.string(spec.get("name", "edgepack image classifier")),
                       1: w.string(spec.get("description", "Converted to LiteRT by edgepack.")),
                       3: w.offsets([sub]), 7: w.string(MIN_PARSER_VERSION)})  # ModelMetadata
    w.b.Finish(root, file_identifier=FILE_IDENTIFIER)
    return bytes(w.b.Output())


def attach_files(model: bytes, spec: dict) -> bytes:
    """Append the associated files as a zip archive after the flatbuffer, as MediaPipe's populator does."""
    labels = spec.get("labels")
    if labels is None:
        return model
    buf = io.BytesIO()
    buf.write(model)
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr(LABELS_FILE, "\n".join(str(x) for x in labels) + "\n")
    return buf.getvalue()
