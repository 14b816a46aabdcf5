"""Reference samples stored in a bundle: a few inputs and the ONNX Runtime fp32 outputs on them, so that a
device can check every artifact it can run without a workstation (`edgepack verify BUNDLE`).

One member, `references/samples.npz` (an uncompressed numpy .npz, read with allow_pickle=False), described by
`verification.references` in the manifest (docs/bundle.md). Arrays are keyed `input_<i>` / `output_<j>` in
the order of the manifest's `inputs` / `outputs`, each of shape [samples, *tensor shape]. Float inputs are
stored as float16 and the references are computed on exactly those (rounded) values, so storing them loses
nothing; outputs are float32, or float16 when float32 does not fit the cap. The whole member is capped at
MAX_REFERENCE_BYTES: pack stores as many samples (up to the number asked) as fit, and none if even one does
not. Writing happens on the workstation (pack); this module needs numpy only."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edgepack.errors import BundleError
from edgepack.runtime.artifact import TensorInfo, seeded_inputs

REFERENCES_FILE = "references/samples.npz"
MAX_REFERENCE_BYTES = 8 << 20  # 8 MiB: one 640x640 detector sample with float32 outputs fits
DEFAULT_SAMPLES = 2
MAX_SAMPLES = 4
_FP16_MAX = 65504.0
_NPY_OVERHEAD = 512  # per array: .npy header + zip entry, generous

Feeds = dict[str, np.ndarray]


@dataclass
class References:
    """Decoded reference samples: per sample, {input name: array} and {output name: array}."""

    inputs: list[Feeds]
    outputs: list[Feeds]

    @property
    def samples(self) -> int:
        return len(self.inputs)


def build(inputs: list[TensorInfo], outputs: list[TensorInfo], run: Callable[[list[Feeds]], list[Feeds]],
          samples: int = DEFAULT_SAMPLES, cap: int = MAX_REFERENCE_BYTES, seed: int = 0) -> tuple[bytes, dict] | str:
    """The member's bytes and its manifest entry (without sha256), or a one-line reason why none fits.
    `run(feeds)` gives the reference outputs (ONNX Runtime fp32 on the workstation)."""
    if not 1 <= samples <= MAX_SAMPLES:
        raise ValueError(f"reference samples must be 1..{MAX_SAMPLES}, got {samples}")
    feeds = [{k: _storable_input(v) for k, v in seeded_inputs(inputs, seed + i).items()} for i in range(samples)]
    refs = run([{k: v.astype(_dtype_of(inputs, k)) for k, v in f.items()} for f in feeds])
    in_arrays = [np.stack([f[t.name] for f in feeds]) for t in inputs]
    out32 = [np.stack([np.asarray(r[t.name]) for r in refs]) for t in outputs]
    candidates = [("float32", out32)]
    if all(a.dtype.kind != "f" or (np.all(np.isfinite(a)) and np.abs(a).max(initial=0) < _FP16_MAX) for a in out32):
        candidates.append(("float16", [a.astype(np.float16) if a.dtype.kind == "f" else a for a in out32]))
    for out_dtype, out_arrays in candidates:
        per_sample = sum(a[0].nbytes for a in (*in_arrays, *out_arrays))
        fixed = _NPY_OVERHEAD * (len(in_arrays) + len(out_arrays))
        n = min(samples, (cap - fixed) // max(1, per_sample))
        if n >= 1:
            data = _encode([a[:n] for a in in_arrays], [a[:n] for a in out_arrays])
            if len(data) <= cap:
                entry = {"file": REFERENCES_FILE, "size_bytes": len(data), "samples": int(n),
                         "inputs": {"kind": "seeded standard normal", "seed": seed, "stored_as": _stored(in_arrays)},
                         "outputs": {"reference": "onnxruntime fp32", "stored_as": out_dtype}}
                return data, entry
    need = sum(a[0].nbytes for a in (*in_arrays, *candidates[-1][1]))
    return (f"one reference sample needs {need} bytes, more than the {cap}-byte cap: the bundle carries no "
            "reference samples (edgepack verify BUNDLE cannot check it on the device)")


def decode(data: bytes, entry: dict, inputs: list[TensorInfo], outputs: list[TensorInfo], where: str) -> References:
    """Parse the member (already size- and sha256-checked) and check every array against the manifest."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:  # no compressed entries: nothing can expand past the cap
            for info in zf.infolist():
                if info.compress_type != zipfile.ZIP_STORED or info.file_size > MAX_REFERENCE_BYTES:
                    raise BundleError(f"{where}: {REFERENCES_FILE} holds a compressed or oversized entry; repack "
                                      "the bundle with edgepack pack")
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
        raise BundleError(f"{where}: {REFERENCES_FILE} is not a readable .npz ({e}); repack the bundle") from e
    n = entry["samples"]
    ins = _unpack(arrays, "input", inputs, n, where)
    outs = _unpack(arrays, "output", outputs, n, where)
    return References(ins, outs)


def _unpack(arrays: dict[str, np.ndarray], kind: str, tensors: list[TensorInfo], n: int, where: str) -> list[Feeds]:
    per_sample: list[Feeds] = [{} for _ in range(n)]
    for i, t in enumerate(tensors):
        key = f"{kind}_{i}"
        a = arrays.get(key)
        want = [n, *t.shape]
        if a is None or list(a.shape) != want:
            got = "missing" if a is None else f"shape {list(a.shape)}"
            raise BundleError(f"{where}: {REFERENCES_FILE} entry {key} ({kind} '{t.name}') is {got}, expected "
                              f"shape {want}; repack the bundle")
        dt = np.dtype(t.dtype)
        if a.dtype.kind not in "fiub" or (dt.kind == "f") != (a.dtype.kind == "f"):
            raise BundleError(f"{where}: {REFERENCES_FILE} entry {key} has dtype {a.dtype}, the model's {kind} "
                              f"'{t.name}' is {t.dtype}; repack the bundle")
        for s in range(n):
            per_sample[s][t.name] = a[s].astype(dt) if kind == "input" else a[s]
    return per_sample


def _storable_input(a: np.ndarray) -> np.ndarray:
    """float32 inputs are stored as float16; the references are computed on these rounded values."""
    return a.astype(np.float16) if a.dtype == np.float32 else a


def _dtype_of(tensors: list[TensorInfo], name: str) -> np.dtype:
    return np.dtype(next(t.dtype for t in tensors if t.name == name))


def _stored(arrays: list[np.ndarray]) -> str:
    return ",".join(sorted({str(a.dtype) for a in arrays})) or "none"


def _encode(in_arrays: list[np.ndarray], out_arrays: list[np.ndarray]) -> bytes:
    buf = io.BytesIO()
    named = {f"input_{i}": a for i, a in enumerate(in_arrays)} | {f"output_{j}": a for j, a in enumerate(out_arrays)}
    np.savez(buf, **named)
    return buf.getvalue()
