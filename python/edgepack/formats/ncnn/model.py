"""An ncnn model: the .param graph plus every layer's weight blobs read from the .bin. The .bin is the
layers' blobs concatenated in layer order; a tagged blob starts with a 4-byte tag:
  0x00000000 raw float32 · 0x01306B47 float16 · 0x000D4B38 int8,
and fp16 / int8 payloads are zero-padded to a multiple of 4 bytes. Untagged blobs are raw float32.
Reading then writing an unedited model gives the same bytes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgepack.errors import InputError
from edgepack.formats.ncnn.layouts import LAYOUTS, WEIGHTLESS, BlobSpec
from edgepack.formats.ncnn.param import ParamFile, parse_param

TAG_FP32, TAG_FP16, TAG_INT8 = 0x00000000, 0x01306B47, 0x000D4B38
_TAG_DTYPE = {TAG_FP32: np.float32, TAG_FP16: np.float16, TAG_INT8: np.int8}
_DTYPE_TAG = {np.dtype(v): k for k, v in _TAG_DTYPE.items()}


@dataclass
class WeightBlob:
    role: str
    data: np.ndarray  # 1-D: float32, float16 (tagged only) or int8 (tagged only)
    tagged: bool

    def encode(self) -> bytes:
        a = np.ascontiguousarray(self.data).ravel()
        if not self.tagged:
            return a.astype("<f4").tobytes()
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
        pad = (-len(raw)) % 4
        return int(_DTYPE_TAG[a.dtype]).to_bytes(4, "little") + raw + b"\0" * pad


@dataclass
class NcnnModel:
    param: ParamFile
    weights: dict[str, list[WeightBlob]] = field(default_factory=dict)  # layer name -> blobs in file order

    def blob(self, layer: str, role: str) -> WeightBlob:
        return next(b for b in self.weights[layer] if b.role == role)

    def bin_bytes(self) -> bytes:
        return b"".join(b.encode() for ly in self.param.layers for b in self.weights.get(ly.name, []))


def layer_specs(layer) -> list[BlobSpec]:
    if layer.type in LAYOUTS:
        try:
            return LAYOUTS[layer.type](layer)
        except (ValueError, KeyError) as e:
            raise InputError(f"ncnn layer '{layer.name}' ({layer.type}): its weights use a storage edgepack "
                             f"cannot read ({e})") from e
    if layer.type in WEIGHTLESS:
        return []
    raise InputError(f"ncnn layer '{layer.name}' has type {layer.type}, whose weight layout edgepack does not "
                     "know; the .bin cannot be parsed past it")


def parse_model(param_text: str, data: bytes, source: str = "model") -> NcnnModel:
    param = parse_param(param_text, source)
    model = NcnnModel(param)
    off = 0
    for ly in param.layers:
        blobs = []
        for spec in layer_specs(ly):
            blob, off = _read_blob(data, off, spec, f"{source}: layer '{ly.name}' blob {spec.role}")
            blobs.append(blob)
        if blobs:
            model.weights[ly.name] = blobs
    if off != len(data):
        raise InputError(f"{source}: the .bin has {len(data) - off} bytes after the last layer's weights; the "
                         ".param and .bin do not belong together")
    return model


def _read_blob(data: bytes, off: int, spec: BlobSpec, what: str) -> tuple[WeightBlob, int]:
    def need(n: int) -> None:
        if off + n > len(data):
            raise InputError(f"{what}: the .bin ends early (needs {n} bytes at offset {off}); it is truncated "
                             "or does not match the .param")

    if not spec.tagged:
        need(4 * spec.count)
        a = np.frombuffer(data, "<f4", spec.count, off).astype(np.float32)
        return WeightBlob(spec.role, a, False), off + 4 * spec.count
    need(4)
    tag = int.from_bytes(data[off:off + 4], "little")
    if tag not in _TAG_DTYPE:
        raise InputError(f"{what}: storage tag 0x{tag:08X} is not fp32/fp16/int8 (a codebook-quantized .bin "
                         "is not supported); reconvert the model with pnnx")
    dt = np.dtype(_TAG_DTYPE[tag]).newbyteorder("<")
    n = spec.count * dt.itemsize
    need(4 + n)
    a = np.frombuffer(data, dt, spec.count, off + 4).astype(dt.newbyteorder("="))
    return WeightBlob(spec.role, a, True), off + 4 + n + (-n) % 4


def read_model(param: str | Path, binf: str | Path) -> NcnnModel:
    p, b = Path(param), Path(binf)
    try:
        return parse_model(p.read_text(), b.read_bytes(), p.name)
    except OSError as e:
        raise InputError(f"cannot read ncnn model '{e.filename}' ({e.strerror})") from e


def write_model(model: NcnnModel, param: str | Path, binf: str | Path) -> None:
    from edgepack.runtime._fsutil import atomic_write_bytes

    atomic_write_bytes(param, model.param.text().encode())
    atomic_write_bytes(binf, model.bin_bytes())
