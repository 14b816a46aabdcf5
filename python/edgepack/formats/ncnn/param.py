"""The ncnn .param text format: a magic line (7767517), "layer_count blob_count", then one line per layer:
`Type Name bottom_count top_count bottoms... tops... key=value...`. Values stay as the text that was read
(arrays are written `-23300-key=n,v1,...`), so an unedited file is written back byte for byte. The writer
uses pnnx's column layout (type and name left-justified to 24 characters)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from edgepack.errors import InputError

MAGIC = "7767517"


@dataclass
class Layer:
    type: str
    name: str
    bottoms: list[str]
    tops: list[str]
    params: list[tuple[str, str]] = field(default_factory=list)  # (key, value text) in file order

    def get(self, key: int, default: float | int | None = None) -> float | int | None:
        """A scalar param as int (or float when written with a dot or exponent); `default` if absent."""
        for k, v in self.params:
            if k == str(key):
                try:
                    return int(v)
                except ValueError:
                    return float(v)
        return default

    def set(self, key: int, value: int | float) -> None:
        """Set a scalar param, replacing it in place or appending it at the end."""
        text = str(value) if isinstance(value, int) else f"{value:e}"
        for i, (k, _) in enumerate(self.params):
            if k == str(key):
                self.params[i] = (k, text)
                return
        self.params.append((str(key), text))

    def line(self) -> str:
        head = f"{self.type:<24} {self.name:<24} {len(self.bottoms)} {len(self.tops)}"
        blobs = "".join(f" {b}" for b in self.bottoms + self.tops)
        return head + blobs + "".join(f" {k}={v}" for k, v in self.params)


@dataclass
class ParamFile:
    layers: list[Layer]
    blob_count: int

    def text(self) -> str:
        return "\n".join([MAGIC, f"{len(self.layers)} {self.blob_count}", *(ly.line() for ly in self.layers)]) + "\n"

    def layer(self, name: str) -> Layer:
        for ly in self.layers:
            if ly.name == name:
                return ly
        raise KeyError(name)

    def producer(self, blob: str) -> Layer | None:
        return next((ly for ly in self.layers if blob in ly.tops), None)


def parse_param(text: str, source: str = "param") -> ParamFile:
    lines = text.split("\n")
    if not lines or lines[0].strip() != MAGIC:
        raise InputError(f"{source} is not an ncnn .param file (first line is not {MAGIC}); pass the .param "
                         "written by pnnx or edgepack convert")
    try:
        n_layers, n_blobs = (int(v) for v in lines[1].split())
    except (IndexError, ValueError) as e:
        raise InputError(f"{source}: second line must be 'layer_count blob_count'") from e
    layers = []
    for no, ln in enumerate(lines[2:], start=3):
        parts = ln.split()
        if not parts:
            continue
        try:
            nb, nt = int(parts[2]), int(parts[3])
        except (IndexError, ValueError) as e:
            raise InputError(f"{source} line {no}: malformed layer line '{ln[:80]}'") from e
        blobs = parts[4:4 + nb + nt]
        params = [tuple(p.split("=", 1)) for p in parts[4 + nb + nt:]]
        if len(blobs) != nb + nt or any(len(p) != 2 for p in params):
            raise InputError(f"{source} line {no}: malformed layer line '{ln[:80]}'")
        layers.append(Layer(parts[0], parts[1], blobs[:nb], blobs[nb:], [(k, v) for k, v in params]))
    if len(layers) != n_layers:
        raise InputError(f"{source}: header says {n_layers} layers, the file has {len(layers)}; it is truncated")
    return ParamFile(layers, n_blobs)


def read_param(path: str | Path) -> ParamFile:
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise InputError(f"cannot read ncnn param file '{p}' ({e.strerror})") from e
    return parse_param(text, p.name)
