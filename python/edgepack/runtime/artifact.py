"""Artifact: one converted model file set (engine x precision) and how its tensors map to ONNX names."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from edgepack.errors import InputError
from edgepack.runtime.limits import check_shape


@dataclass
class TensorInfo:
    """One model input or output, addressed by its ONNX name; `engine_name` is the engine's own name."""

    name: str
    shape: list[int]
    dtype: str
    engine_name: str = ""
    layout: str = ""

    @classmethod
    def from_dict(cls, d: dict) -> TensorInfo:
        return cls(d["name"], list(d["shape"]), d["dtype"], d.get("engine_name", ""), d.get("layout", ""))


@dataclass
class Artifact:
    """Files of one engine x precision plus provenance. `files` maps a role ('param', 'bin', 'model') to a
    file name relative to `directory`. `memory` maps a role to its bytes when a bundle hands the file over
    in memory instead of on disk (engines that can load from a buffer; see Engine.memory_roles)."""

    engine: str
    precision: str
    files: dict[str, str]
    directory: str
    inputs: list[TensorInfo] = field(default_factory=list)
    outputs: list[TensorInfo] = field(default_factory=list)
    converter: str = ""
    converter_version: str = ""
    sha256: dict[str, str] = field(default_factory=dict)
    size_bytes: int = 0
    convert_seconds: float = 0.0
    options: dict[str, str] = field(default_factory=dict)  # converter options chosen (e.g. io_layout)
    memory: dict = field(default_factory=dict, repr=False, compare=False)  # role -> bytes-like, load time only

    @property
    def key(self) -> str:
        return f"{self.engine}-{self.precision}"

    def path(self, role: str) -> Path:
        return Path(self.directory) / self.files[role]

    def finalize(self) -> None:
        """Compute checksums and total size of the files as they are now."""
        self.sha256 = {name: sha256_file(Path(self.directory) / name) for name in self.files.values()}
        self.size_bytes = sum((Path(self.directory) / n).stat().st_size for n in self.files.values())

    def to_dict(self) -> dict:
        memory, self.memory = self.memory, {}
        try:
            d = asdict(self)  # (asdict would deep-copy the buffers)
        finally:
            self.memory = memory
        d.pop("directory")
        d.pop("memory")
        return d

    @classmethod
    def from_dict(cls, d: dict, directory: str | Path) -> Artifact:
        d = dict(d)
        d["inputs"] = [TensorInfo.from_dict(t) for t in d.get("inputs", [])]
        d["outputs"] = [TensorInfo.from_dict(t) for t in d.get("outputs", [])]
        return cls(directory=str(directory), **d)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def seeded_inputs(inputs: list[TensorInfo], seed: int = 0) -> dict[str, np.ndarray]:
    """Deterministic test inputs: standard normal floats, small non-negative integers, random booleans."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for t in inputs:
        check_shape(t.shape, f"input '{t.name}' shape")
        dt = np.dtype(t.dtype)
        if dt.kind == "f":
            feeds[t.name] = rng.standard_normal(t.shape).astype(dt)
        elif dt.kind == "b":
            feeds[t.name] = rng.random(t.shape) > 0.5
        else:
            feeds[t.name] = rng.integers(0, 4, size=t.shape).astype(dt)
    return feeds


def load_artifacts(out_dir: str | Path) -> list[Artifact]:
    """The artifacts recorded in an `edgepack convert` output directory."""
    d = Path(out_dir)
    cj = d / "convert.json"
    if not cj.exists():
        raise InputError(f"'{d}' has no convert.json; pass a directory written by edgepack convert")
    doc = json.loads(cj.read_text())
    return [Artifact.from_dict(a["artifact"], d / a["dir"]) for a in doc["artifacts"] if "artifact" in a]
