"""Raw pnnx on a file, the way a user would run it by hand: which layers of the .param ncnn cannot run, and
ncnn (fp32) against ONNX Runtime on one seeded input. The ground truth the graph-form tests compare with."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from edgepack.converters.ncnn import pnnx_executable


def raw_pnnx_layers(onnx_path: Path, shape: list[int], work: Path) -> dict:
    """{"unsupported": [layer types ncnn lacks], "recurrent_without_weights": [...], "param": path}."""
    import ncnn

    work.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(onnx_path, work / "m.onnx")
    subprocess.run([str(pnnx_executable()), "m.onnx", f"inputshape=[{','.join(map(str, shape))}]", "fp16=0",
                    "device=cpu"], cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    param = work / "m.ncnn.param"
    assert param.exists(), f"raw pnnx wrote no .param for {onnx_path.name}"
    rows = [ln.split() for ln in param.read_text().splitlines()[2:] if ln.strip()]
    return {"unsupported": sorted({r[0] for r in rows if ncnn.create_layer(r[0]) is None}),
            "recurrent_without_weights": [r[1] for r in rows if r[0] in ("LSTM", "GRU", "RNN")
                                          and not any(p.startswith("1=") for p in r[4 + int(r[2]) + int(r[3]):])],
            "param": param}


def raw_pnnx_cosine(onnx_path: Path, shape: list[int], work: Path) -> float:
    """Cosine of ncnn (fp32, raw pnnx output) vs ONNX Runtime on the first output, seeded normal input; in a
    child process (ncnn and ONNX Runtime in one process with the test's other imports segfaulted)."""
    proc = subprocess.run([sys.executable, __file__, str(onnx_path), ",".join(map(str, shape)), str(work)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return float(proc.stdout.strip().splitlines()[-1])


def _cosine_here(onnx_path: Path, shape: list[int], work: Path) -> float:
    import ncnn
    import onnxruntime as ort

    info = raw_pnnx_layers(onnx_path, shape, work)
    net = ncnn.Net()
    net.opt.use_fp16_storage = net.opt.use_fp16_arithmetic = net.opt.use_fp16_packed = False
    assert net.load_param(str(info["param"])) == 0 and net.load_model(str(work / "m.ncnn.bin")) == 0
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    ref = sess.run(None, {sess.get_inputs()[0].name: x})[0].ravel().astype(np.float64)
    ex = net.create_extractor()
    ex.input("in0", ncnn.Mat(x[0]).clone())
    _, out = ex.extract("out0")
    got = np.array(out).ravel().astype(np.float64)
    del out, ex  # ncnn Mats and the extractor go before the net (ncnn aborts otherwise)
    net.clear()
    return float(np.dot(ref, got) / (np.linalg.norm(ref) * np.linalg.norm(got)))


if __name__ == "__main__":
    print(_cosine_here(Path(sys.argv[1]), [int(v) for v in sys.argv[2].split(",")], Path(sys.argv[3])))
