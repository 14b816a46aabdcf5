"""Build the architecture zoo (tests/fixtures/zoo/*.onnx) and try each model on the converters.

Each model is a few channels of a well-known architecture pattern in plain torch, with random weights
from a fixed seed, fixed shapes, batch 1, opset 17, and meaningful input/output names (never torch's
defaults), so that shape, layout and name-mapping bugs show in edgepack's converters and engines.

  python tools/make_zoo.py                 # write the .onnx files (deterministic)
  python tools/make_zoo.py --check         # ... then try pnnx->ncnn and MNN on each, update README table
  python tools/make_zoo.py --check-only python/edgepack/demo/digits.onnx   # try converters on any file

Converters and engines run in child processes: MNN's converter and runtime crash on some graphs, and a
crash must show up as a row in the table, not kill this script.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from zoo_sequence import MODELS as SEQUENCE_MODELS  # noqa: E402

SEED = 1234
OPSET = 17
REPO = Path(__file__).resolve().parents[1]
ZOO_DIR = REPO / "tests" / "fixtures" / "zoo"
PNNX_SPEC = importlib.util.find_spec("pnnx")  # the pnnx wheel ships the converter binary inside the package
PNNX = Path(PNNX_SPEC.origin).parent / "pnnx" if PNNX_SPEC and PNNX_SPEC.origin else Path("pnnx")
TIMEOUT = 300
TABLE_START, TABLE_END = "<!-- zoo-table:start -->", "<!-- zoo-table:end -->"


# --------------------------------------------------------------------------------------------- models
def conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1) -> list[nn.Module]:
    """Conv without bias followed by BatchNorm (the exporter folds the BN into the conv in eval mode)."""
    return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise, ReLU6, 1x1 linear project, residual add."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.body = nn.Sequential(
            *conv_bn(cin, mid, 1), nn.ReLU6(),
            *conv_bn(mid, mid, 3, stride, groups=mid), nn.ReLU6(),
            *conv_bn(mid, cout, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) if self.use_res else self.body(x)


class InvertedResidualNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            *conv_bn(3, 8, 3, 2), nn.ReLU6(),
            InvertedResidual(8, 8, 1, 4), InvertedResidual(8, 16, 2, 4), InvertedResidual(16, 16, 1, 4),
            nn.Conv2d(16, 24, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class PreActBlock(nn.Module):
    """ResNet-v2 basic block: BN-ReLU-Conv twice; a strided 1x1 conv shortcut when the shape changes.

    The BN that follows the residual add has no conv before it, so BatchNormalization survives export.
    """

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2, self.conv2 = nn.BatchNorm2d(cout), nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride, bias=False) if stride != 1 or cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = F.relu(self.bn1(x))
        skip = x if self.shortcut is None else self.shortcut(pre)
        return skip + self.conv2(F.relu(self.bn2(self.conv1(pre))))


class ResNetBN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 8, 3), nn.ReLU())
        self.blocks = nn.Sequential(PreActBlock(8, 8, 1), PreActBlock(8, 16, 2), PreActBlock(16, 16, 1))
        self.bn = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn(self.blocks(self.stem(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """ShuffleNet channel shuffle: reshape to groups, transpose, flatten back."""
    n, c, h, w = x.size()
    x = x.view(n, groups, c // groups, h, w).transpose(1, 2).contiguous()
    return x.view(n, c, h, w)


class ShuffleUnit(nn.Module):
    """ShuffleNetV2 unit: stride 1 splits channels in half (slice); stride 2 runs two branches."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        half = cout // 2
        bin_ = cin if stride == 2 else cin // 2
        self.branch = nn.Sequential(
            *conv_bn(bin_, half, 1), nn.ReLU(), *conv_bn(half, half, 3, stride, groups=half),
            *conv_bn(half, half, 1), nn.ReLU(),
        )
        self.proj = nn.Sequential(
            *conv_bn(cin, cin, 3, 2, groups=cin), *conv_bn(cin, half, 1), nn.ReLU(),
        ) if stride == 2 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.proj is None:
            c = x.shape[1] // 2
            out = torch.cat([x[:, :c], self.branch(x[:, c:])], 1)
        else:
            out = torch.cat([self.proj(x), self.branch(x)], 1)
        return channel_shuffle(out, 2)


class ShuffleNetTiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 16, 3, 2), nn.ReLU())
        self.units = nn.Sequential(ShuffleUnit(16, 16, 1), ShuffleUnit(16, 32, 2), ShuffleUnit(32, 32, 1))
        self.head = nn.Conv2d(32, 16, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.units(self.stem(x)))


class SqueezeExcite(nn.Module):
    """SE gate: global average pool, reduce, ReLU, expand, hard-sigmoid, multiply.

    `linear=True` uses Linear layers on the pooled vector (flatten/reshape), else 1x1 convs.
    """

    def __init__(self, c: int, reduced: int, linear: bool) -> None:
        super().__init__()
        self.linear = linear
        if linear:
            self.fc1, self.fc2 = nn.Linear(c, reduced), nn.Linear(reduced, c)
        else:
            self.fc1, self.fc2 = nn.Conv2d(c, reduced, 1), nn.Conv2d(reduced, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = F.adaptive_avg_pool2d(x, 1)
        if self.linear:
            s = self.fc2(F.relu(self.fc1(s.flatten(1)))).view(s.shape[0], -1, 1, 1)
        else:
            s = self.fc2(F.relu(self.fc1(s)))
        return x * F.hardsigmoid(s)


class SEHardSwishNet(nn.Module):
    """MobileNetV3-style: hard-swish activations, depthwise convs with SE gates, logits head."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            *conv_bn(3, 16, 3, 2), nn.Hardswish(),
            *conv_bn(16, 16, 3, 1, groups=16), nn.Hardswish(), SqueezeExcite(16, 8, linear=False),
            *conv_bn(16, 24, 1),
            *conv_bn(24, 48, 1), nn.Hardswish(),
            *conv_bn(48, 48, 5, 2, groups=48), nn.Hardswish(), SqueezeExcite(48, 12, linear=True),
            *conv_bn(48, 32, 1), nn.Hardswish(),
        )
        self.classifier = nn.Sequential(nn.Linear(32, 64), nn.Hardswish(), nn.Linear(64, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.adaptive_avg_pool2d(self.features(x), 1).flatten(1)
        return self.classifier(x)


class DetectorNeckHead(nn.Module):
    """Two-scale detector: strided SiLU convs, nearest x2 upsample, concat with skip, 1x1 heads."""

    def __init__(self, anchors: int = 3, classes: int = 2) -> None:
        super().__init__()
        out = anchors * (5 + classes)
        self.c1 = nn.Sequential(*conv_bn(3, 8, 3, 2), nn.SiLU())  # /2
        self.c2 = nn.Sequential(*conv_bn(8, 16, 3, 2), nn.SiLU())  # /4 (skip)
        self.c3 = nn.Sequential(*conv_bn(16, 32, 3, 2), nn.SiLU())  # /8
        self.lateral = nn.Sequential(*conv_bn(32, 16, 1), nn.SiLU())
        self.fuse = nn.Sequential(*conv_bn(32, 16, 3), nn.SiLU())
        self.head_p3, self.head_p4 = nn.Conv2d(16, out, 1), nn.Conv2d(32, out, 1)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        skip = self.c2(self.c1(image))
        deep = self.c3(skip)
        up = F.interpolate(self.lateral(deep), scale_factor=2.0, mode="nearest")
        p3 = self.head_p3(self.fuse(torch.cat([up, skip], 1)))
        return p3, self.head_p4(deep)


class SegNetTiny(nn.Module):
    """Encoder-decoder: ConvTranspose x2 decoder with skip add, bilinear x2 (align_corners=False)."""

    def __init__(self, classes: int = 4) -> None:
        super().__init__()
        self.e1 = nn.Sequential(*conv_bn(3, 8, 3, 2), nn.ReLU())  # /2
        self.e2 = nn.Sequential(*conv_bn(8, 16, 3, 2), nn.ReLU())  # /4
        self.up = nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)  # /2
        self.dec = nn.Sequential(*conv_bn(8, 8, 3), nn.ReLU())
        self.cls = nn.Conv2d(8, classes, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        s1 = self.e1(image)
        x = self.dec(F.relu(self.up(self.e2(s1))) + s1)
        x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        return self.cls(x)


class SelfAttention(nn.Module):
    """Multi-head self-attention written out: Linear qkv, reshape/transpose, MatMul, Softmax, MatMul."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, d = x.shape
        qkv = self.qkv(x).reshape(n, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = torch.softmax(q @ k.transpose(-2, -1) * (1.0 / math.sqrt(self.head_dim)), dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(n, t, d))


class TransformerBlock(nn.Module):
    """Pre-norm transformer block: LN, attention, residual; LN, GELU MLP, residual; final LN."""

    def __init__(self, dim: int = 32, heads: int = 4, hidden: int = 64) -> None:
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(dim), SelfAttention(dim, heads)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
        self.ln_out = nn.LayerNorm(dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = tokens + self.attn(self.ln1(tokens))
        x = x + self.mlp(self.ln2(x))
        return self.ln_out(x)


class LSTMClassifier(nn.Module):
    """One-layer batch-first LSTM; the last time step goes through a Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(16, 32, num_layers=1, batch_first=True)
        self.fc = nn.Linear(32, 10)

    def forward(self, sequence: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(sequence)
        return self.fc(out[:, -1])


# name: (model class, {input name: shape}, [output names])
ZOO: dict[str, tuple[type[nn.Module], dict[str, list[int]], list[str]]] = {
    "inverted_residual": (InvertedResidualNet, {"input": [1, 3, 48, 48]}, ["output"]),
    "resnet_bn": (ResNetBN, {"input": [1, 3, 32, 32]}, ["logits"]),
    "channel_shuffle": (ShuffleNetTiny, {"input": [1, 3, 32, 32]}, ["output"]),
    "se_hardswish": (SEHardSwishNet, {"input": [1, 3, 40, 40]}, ["logits"]),
    "upsample_concat_head": (DetectorNeckHead, {"image": [1, 3, 64, 64]}, ["p3", "p4"]),
    "convtranspose_bilinear": (SegNetTiny, {"image": [1, 3, 48, 48]}, ["mask"]),
    "layernorm_attention": (TransformerBlock, {"tokens": [1, 16, 32]}, ["output"]),
    "lstm": (LSTMClassifier, {"sequence": [1, 8, 16]}, ["output"]),
    **SEQUENCE_MODELS,
}
# exported with torch.onnx.export's own opset (what a user gets by default), not the zoo's OPSET
DEFAULT_OPSET_MODELS = set(SEQUENCE_MODELS)


def randomize_norm_stats(model: nn.Module, gen: torch.Generator) -> None:
    """Give every BatchNorm/LayerNorm non-trivial statistics and affine params, so they are not identity."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) * 0.5 + 0.75)
        if isinstance(m, (nn.BatchNorm2d, nn.LayerNorm)):
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=gen) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)


def build_model(name: str) -> nn.Module:
    """Instantiate zoo model `name` with seeded random weights, in eval mode."""
    torch.manual_seed(SEED)
    model = ZOO[name][0]()
    with torch.no_grad():
        randomize_norm_stats(model, torch.Generator().manual_seed(SEED))
    return model.eval()


def export_model(name: str, out_dir: Path) -> Path:
    """Export zoo model `name` to out_dir/name.onnx (opset 17, TorchScript exporter) and check it."""
    _, inputs, outputs = ZOO[name]
    model = build_model(name)
    args = tuple(torch.zeros(shape) for shape in inputs.values())
    path = out_dir / f"{name}.onnx"
    torch.onnx.export(
        model, args, str(path), opset_version=None if name in DEFAULT_OPSET_MODELS else OPSET, dynamo=False,
        input_names=list(inputs), output_names=outputs, do_constant_folding=True,
    )
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    proto.producer_name, proto.producer_version = "edgepack tools/make_zoo.py", ""
    proto.doc_string = f"edgepack zoo: {name} ({model.__class__.__name__}), random weights, seed {SEED}"
    onnx.save(proto, str(path))
    ref = run_onnxruntime(path, random_inputs(path))
    with torch.no_grad():
        got = model(*(torch.from_numpy(x) for x in random_inputs(path).values()))
    got = got if isinstance(got, tuple) else (got,)
    diff = max(float(np.abs(r - g.numpy()).max()) for r, g in zip(ref.values(), got))
    print(f"{path.name:32s} {path.stat().st_size:8d} B  torch vs onnxruntime max abs diff {diff:.2e}")
    return path


# ------------------------------------------------------------------------------------- checking
def graph_io(path: Path) -> tuple[dict[str, list[int]], list[str]]:
    """Graph input shapes (initializers excluded) and output names, in graph order."""
    graph = onnx.load(str(path), load_external_data=False).graph
    inits = {i.name for i in graph.initializer}
    shapes = {
        i.name: [d.dim_value for d in i.type.tensor_type.shape.dim]
        for i in graph.input if i.name not in inits
    }
    return shapes, [o.name for o in graph.output]


def random_inputs(path: Path, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded standard-normal float32 inputs for every graph input."""
    rng = np.random.default_rng(seed)
    return {k: rng.standard_normal(s).astype(np.float32) for k, s in graph_io(path)[0].items()}


def run_onnxruntime(path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Reference outputs by name."""
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds)))


def op_summary(path: Path) -> str:
    """Distinct op types in graph order."""
    ops: list[str] = []
    for node in onnx.load(str(path), load_external_data=False).graph.node:
        if node.op_type not in ops and node.op_type != "Constant":
            ops.append(node.op_type)
    return ", ".join(ops)


def run_child(cmd: list[str], cwd: Path) -> tuple[int, str]:
    """Run a command in a child process; return (exit code, combined output). Negative = signal."""
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return -999, "timeout"
    return proc.returncode, proc.stdout + proc.stderr


def first_error(log: str) -> str:
    """The most telling line of a failed child's output, for the table."""
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    keys = ("error", "not supported", "unsupported", "failed", "exception", "traceback", "abort",
            "not implement")
    for ln in lines:
        if any(k in ln.lower() for k in keys):
            return ln[:120]
    return lines[-1][:120] if lines else "no output"


def describe_rc(rc: int) -> str:
    return "timeout" if rc == -999 else (f"signal {-rc}" if rc < 0 else f"exit {rc}")


def unconverted_ncnn_layers(param: Path) -> list[str]:
    """Layer types pnnx left in an ncnn .param as torch ops (e.g. Tensor.reshape); ncnn cannot load them."""
    types = [ln.split()[0] for ln in param.read_text().splitlines()[2:] if ln.strip()]
    return sorted({t for t in types if "." in t or t.startswith(("torch", "F."))})


def try_engine(engine: str, onnx_path: Path, work: Path) -> dict[str, object]:
    """Convert with pnnx (engine 'ncnn') or MNN's converter, run the result, compare with onnxruntime."""
    shapes, _ = graph_io(onnx_path)
    local = work / onnx_path.name
    local.write_bytes(onnx_path.read_bytes())
    stem = onnx_path.stem
    if engine == "ncnn":
        shape_arg = ",".join("[" + ",".join(str(d) for d in s) + "]" for s in shapes.values())
        rc, log = run_child([str(PNNX), local.name, f"inputshape={shape_arg}", "fp16=0"], work)
        artifact = work / f"{stem}.ncnn.param"
    else:
        artifact = work / f"{stem}.mnn"
        argv = ["mnnconvert", "-f", "ONNX", "--modelFile", local.name, "--MNNModel", artifact.name,
                "--bizCode", "edgepack"]
        rc, log = run_child([sys.executable, "-c", f"import _tools; _tools.mnnconvert({argv!r})"], work)
    if rc != 0 or not artifact.exists():
        return {"convert": False, "note": f"convert {describe_rc(rc)}: {first_error(log)}"}
    leftovers = unconverted_ncnn_layers(artifact) if engine == "ncnn" else []
    if leftovers:  # pnnx exits 0 but leaves torch ops it could not lower in the .param
        return {"convert": False, "note": f"pnnx exit 0 but left unconverted layers {', '.join(leftovers)}"}

    feeds = random_inputs(onnx_path)
    np.savez(work / "feeds.npz", **feeds)
    rc, log = run_child([sys.executable, str(Path(__file__).resolve()), "--run-engine", engine,
                         str(onnx_path.resolve()), str(artifact), str(work / "feeds.npz"),
                         str(work / f"{engine}_out.npz")], work)
    if rc != 0:
        return {"convert": True, "run": False, "note": f"run {describe_rc(rc)}: {first_error(log)}"}
    ref = run_onnxruntime(onnx_path, feeds)
    got = np.load(work / f"{engine}_out.npz")
    diffs, notes = [], []
    for name, r in ref.items():
        g = got[name]
        if g.size != r.size:
            notes.append(f"{name}: shape {list(g.shape)} vs onnx {list(r.shape)}")
            continue
        diffs.append(float(np.abs(g.reshape(r.shape) - r).max()))
    note = "; ".join(notes)
    return {"convert": True, "run": not notes, "diff": max(diffs) if diffs else None, "note": note}


def run_engine_child(engine: str, onnx_path: str, artifact: str, feeds_path: str, out_path: str) -> None:
    """Child process body: run one converted artifact on saved inputs and save outputs by ONNX name."""
    _, outputs = graph_io(Path(onnx_path))
    feeds = dict(np.load(feeds_path))
    results: dict[str, np.ndarray] = {}
    if engine == "ncnn":
        import ncnn

        net = ncnn.Net()
        net.opt.use_fp16_storage = net.opt.use_fp16_arithmetic = net.opt.use_fp16_packed = False
        if net.load_param(artifact) != 0 or net.load_model(artifact.replace(".param", ".bin")) != 0:
            raise SystemExit("ncnn failed to load the converted model")
        ex = net.create_extractor()
        for i, x in enumerate(feeds.values()):  # pnnx names inputs in0.. in graph order, no batch dim
            ex.input(f"in{i}", ncnn.Mat(np.ascontiguousarray(x[0])).clone())
        for i, name in enumerate(outputs):
            ret, mat = ex.extract(f"out{i}")
            if ret != 0:
                raise SystemExit(f"ncnn extract out{i} failed: {ret}")
            results[name] = np.array(mat).copy()
    else:
        import MNN

        expr = MNN.expr
        net = MNN.nn.load_module_from_file(artifact, list(feeds), outputs)
        args = []
        for x in feeds.values():
            var = expr.placeholder(list(x.shape), expr.NCHW)
            var.write(x)
            args.append(var)
        for name, y in zip(outputs, net.forward(args)):
            if y.data_format == expr.NC4HW4:
                y = expr.convert(y, expr.NCHW)
            results[name] = np.array(y.read()).copy()
    np.savez(out_path, **results)


def check_file(path: Path) -> dict[str, object]:
    """Checker + onnxruntime + both converters for one file; returns a row for the table."""
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    ref = run_onnxruntime(path, random_inputs(path))
    shapes, outputs = graph_io(path)
    row: dict[str, object] = {
        "model": path.name, "inputs": shapes, "outputs": outputs, "ops": op_summary(path),
        "bytes": path.stat().st_size, "scale": max(float(np.abs(r).max()) for r in ref.values()),
    }
    for engine in ("ncnn", "mnn"):
        with tempfile.TemporaryDirectory(prefix=f"zoo-{engine}-") as tmp:
            row[engine] = try_engine(engine, path, Path(tmp))
        print(f"  {path.name} {engine}: {row[engine]}", flush=True)
    return row


def cell(result: dict[str, object]) -> str:
    """One engine's table cell."""
    if not result["convert"]:
        return f"no - {result['note']}"
    if not result.get("run"):
        return f"converts; run fails - {result['note']}"
    diff = result.get("diff")
    return f"yes, max abs diff {diff:.1e}" if diff is not None else "yes"


def render_table(rows: list[dict[str, object]]) -> str:
    """Markdown table of check results."""
    lines = [
        "| model | inputs -> outputs | ops | size | max abs output | pnnx -> ncnn (fp32) | MNN |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ins = ", ".join(f"`{k}` {v}" for k, v in r["inputs"].items())  # type: ignore[union-attr]
        outs = ", ".join(f"`{o}`" for o in r["outputs"])  # type: ignore[union-attr]
        size = f"{r['bytes'] / 1024:.1f} KB"
        scale = f"{r['scale']:.2g}"
        cells = [r["model"], f"{ins} -> {outs}", r["ops"], size, scale, cell(r["ncnn"]), cell(r["mnn"])]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def versions() -> str:
    """Tool versions the table was measured with."""
    import importlib.metadata as md

    names = ("torch", "onnx", "onnxruntime", "ncnn", "pnnx", "MNN")
    return ", ".join(f"{n} {md.version(n)}" for n in names)


def update_readme(rows: list[dict[str, object]]) -> None:
    """Replace the generated table between the markers in tests/fixtures/zoo/README.md."""
    readme = ZOO_DIR / "README.md"
    text = readme.read_text() if readme.exists() else f"# Architecture zoo\n\n{TABLE_START}\n{TABLE_END}\n"
    head, rest = text.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    body = f"Measured with {versions()} (`python tools/make_zoo.py --check`).\n\n{render_table(rows)}"
    readme.write_text(f"{head}{TABLE_START}\n{body}\n{TABLE_END}{tail}")
    print(f"updated {readme}")


def main(argv: list[str] | None = None) -> None:
    """Export the zoo, optionally try the converters and update the README table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ZOO_DIR)
    parser.add_argument("--only", nargs="*", choices=sorted(ZOO), help="export/check only these models")
    parser.add_argument("--check", action="store_true", help="try pnnx->ncnn and MNN, update README table")
    parser.add_argument("--check-only", nargs="+", type=Path, metavar="ONNX",
                        help="try the converters on these files, export nothing")
    parser.add_argument("--run-engine", nargs=5, metavar=("ENGINE", "ONNX", "ARTIFACT", "FEEDS", "OUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    if args.run_engine:
        run_engine_child(*args.run_engine)
        return
    if args.check_only:
        rows = [check_file(p) for p in args.check_only]
        print(render_table(rows))
        print(json.dumps(rows, indent=1, default=str))
        return
    args.out_dir.mkdir(parents=True, exist_ok=True)
    names = args.only or list(ZOO)
    paths = [export_model(name, args.out_dir) for name in names]
    if args.check:
        rows = [check_file(p) for p in paths]
        print(render_table(rows))
        if args.out_dir == ZOO_DIR and not args.only:
            update_readme(rows)


if __name__ == "__main__":
    main()
