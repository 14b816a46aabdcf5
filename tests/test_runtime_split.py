"""The runtime/toolchain boundary (docs/packaging.md): the device side imports nothing from the workstation side.

Three levels: the imports written in the runtime's source (static), the runtime's API and CLI running in a child
interpreter where the toolchain's packages cannot be imported at all, and (slow) a real venv that has only the
runtime, numpy 1.x and one engine installed."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT, package_root

PKG = ROOT / "python" / "edgepack"
TOOLCHAIN_MODULES = ("edgepack.api", "edgepack.converters", "edgepack.quantize", "edgepack.formats",
                     "edgepack.verify", "edgepack.pack", "edgepack.demo", "edgepack.deploy", "edgepack.templates")
TOOLCHAIN_PACKAGES = ("onnx", "onnxruntime", "onnxslim", "pnnx", "torch", "matplotlib", "rich")
# The runtime's CLI modules (the toolchain commands' modules may import the toolchain inside their functions).
RUNTIME_CLI = ("__init__.py", "bundle.py", "term.py", "ui_bundle.py", "args.py", "doctor.py", "verify.py",
               "model_script.py")
# Lazy imports allowed where they are the point: an engine adapter imports its own engine package, and the
# bench chart is drawn only when matplotlib happens to be installed (runtime/bench/run.py checks first).
OPTIONAL_IMPORTS = {"engines/onnxruntime.py": "onnxruntime", "bench/chart.py": "matplotlib"}


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, at module level?) for every import statement in a file, relative imports resolved."""
    tree = ast.parse(path.read_text(), str(path))
    rel = path.relative_to(PKG.parent).with_suffix("")
    pkg = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    found: list[tuple[str, bool]] = []
    top_level = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, id(node) in top_level) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(pkg[: len(pkg) - node.level + 1] + ([base] if base else []))
            found += [(f"{base}.{a.name}" if base else a.name, id(node) in top_level) for a in node.names]
            found.append((base, id(node) in top_level))
    return found


def _forbidden(name: str) -> bool:
    top = name.split(".")[0]
    return top in TOOLCHAIN_PACKAGES or any(name == m or name.startswith(m + ".") for m in TOOLCHAIN_MODULES)


def test_runtime_source_imports_nothing_from_the_toolchain():
    bad = []
    for path in sorted((PKG / "runtime").rglob("*.py")):
        rel = path.relative_to(PKG / "runtime").as_posix()
        for name, _ in _imports(path):
            if _forbidden(name) and name.split(".")[0] != OPTIONAL_IMPORTS.get(rel):
                bad.append(f"runtime/{rel}: {name}")
    for name in RUNTIME_CLI:
        for mod, top in _imports(PKG / "cli" / name):
            if _forbidden(mod) and (top or name != "__init__.py"):
                bad.append(f"cli/{name}: {mod}")
    for name in ("__init__.py", "errors.py", "__main__.py"):
        bad += [f"{name}: {m}" for m, top in _imports(PKG / name) if top and _forbidden(m)]
    assert not bad, "the runtime imports the toolchain:\n" + "\n".join(bad)


def test_toolchain_command_modules_import_only_click_at_module_level():
    """cli/__init__ registers every command, so a toolchain command module must be importable without the
    toolchain: its imports of toolchain packages live inside the command functions."""
    commands = [p.name for p in (PKG / "cli").glob("*.py") if "\ndef register(" in p.read_text()]
    assert len(commands) >= 4, commands
    for name in sorted(commands):
        bad = [m for m, top in _imports(PKG / "cli" / name) if top and _forbidden(m)]
        assert not bad, f"cli/{name} imports {bad} at module level"


# A child interpreter that sees what a device has: the site-packages of this environment minus the toolchain's
# packages (a filtered view of symlinks, so `find_spec("onnx")` really finds nothing), and a finder that refuses
# edgepack's own toolchain modules (they are in the source tree, but the runtime must never import them).
BLOCKER = """
import importlib.abc, site, sys
site.addsitedir({view!r})
BLOCKED = {blocked!r}
class _Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in BLOCKED):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, _Refuse())
"""


def _site_view(dest: Path) -> Path:
    """Symlinks to every installed distribution except the toolchain's; `.pth` path lines are followed
    (a venv may point at another site-packages), `.pth` import lines (editable installs) are kept."""
    dest.mkdir(parents=True, exist_ok=True)
    todo = [p for p in sys.path if p.endswith("site-packages")]
    seen: set[str] = set()
    while todo:
        d = Path(todo.pop(0))  # in sys.path order: this venv's own packages (its editable edgepack) win
        if str(d) in seen or not d.is_dir():
            continue
        seen.add(str(d))
        for entry in sorted(d.iterdir()):
            top = entry.name.split("-")[0].split(".")[0].lower()
            if top in TOOLCHAIN_PACKAGES or (dest / entry.name).exists():
                continue
            if entry.suffix == ".pth":
                keep = []
                for line in entry.read_text().splitlines():
                    if line.startswith(("import ", "import\t")):
                        keep.append(line)
                    elif line.strip() and not line.startswith("#"):
                        todo.append(line.strip())
                (dest / entry.name).write_text("\n".join(keep) + "\n")
            else:
                (dest / entry.name).symlink_to(entry)
    return dest


def _run_without_toolchain(code: str, cwd: Path, refuse_toolchain_modules: bool = True) -> subprocess.CompletedProcess:
    view = _site_view(cwd / "site-view")
    blocker = BLOCKER.format(view=str(view), blocked=TOOLCHAIN_MODULES if refuse_toolchain_modules else ())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    root = package_root()
    if Path(root).name not in ("site-packages", "dist-packages"):  # a checkout; an installed edgepack is in the view
        env["PYTHONPATH"] = root
    return subprocess.run([sys.executable, "-S", "-c", blocker + textwrap.dedent(code)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def device_bundle(tmp_path_factory) -> Path:
    """The demo digits model packed on the workstation with an artifact per installed device engine."""
    from edgepack.demo import load_demo
    from edgepack.pack import PackOptions, pack
    from edgepack.runtime.engines import engine_status

    d = load_demo()
    targets = ",".join(t for e, t in (("ncnn", "ncnn"), ("mnn", "mnn"), ("litert", "tflite"),
                                          ("openvino", "openvino"))
                       if engine_status(e).installed)
    out = tmp_path_factory.mktemp("device") / "digits.edgepack"
    opts = PackOptions(task="classify", labels=d.spec["labels"], mean=d.spec["mean"], std=d.spec["std"])
    pack(d.model, out, opts, to=targets, precision="fp32", bench_runs=2)
    from PIL import Image

    Image.fromarray(d.images[3]).save(out.parent / "digit.png")  # a held-out 32x32 RGB digit
    return out


def test_runtime_api_runs_every_engine_without_the_toolchain(device_bundle, tmp_path):
    from edgepack.runtime.session import load

    engines = [a["engine"] for a in json.loads(_manifest(device_bundle))["artifacts"]]
    expected = {}
    for e in engines:
        with load(device_bundle, engine=e) as s:
            expected[e] = s.run(str(device_bundle.parent / "digit.png")).labels
    r = _run_without_toolchain(f"""
        import sys, numpy as np, edgepack
        from PIL import Image
        img = np.asarray(Image.open({str(device_bundle.parent / 'digit.png')!r}).convert("RGB"))
        for engine in {engines!r}:
            with edgepack.load({str(device_bundle)!r}, engine=engine) as s:
                a = s.run({str(device_bundle.parent / 'digit.png')!r})
                b = s.run(img)
                assert a.labels == b.labels, (a, b)
                print(engine, a.labels)
        leaked = sorted(m for m in sys.modules if m.split(".")[0] in {TOOLCHAIN_PACKAGES!r}
                        or m.startswith({TOOLCHAIN_MODULES!r}))
        print("leaked", leaked)
    """, tmp_path)
    assert r.returncode == 0, r.stderr
    for e in engines:
        assert f"{e} {expected[e]}" in r.stdout, r.stdout
    assert "leaked []" in r.stdout


def test_runtime_cli_works_and_toolchain_commands_name_the_install(device_bundle, tmp_path):
    cli = "import sys; from edgepack.cli import main; sys.exit(main(sys.argv[1:]))"
    b, img = str(device_bundle), str(device_bundle.parent / "digit.png")

    def edgepack(*args: str, runtime_only: bool = True) -> subprocess.CompletedProcess:
        return _run_without_toolchain(f"import sys; sys.argv = ['edgepack', *{list(args)!r}]\n{cli}", tmp_path,
                                      refuse_toolchain_modules=runtime_only)

    for args in (("engines",), ("info", b, "--explain"), ("run", b, img), ("doctor", b, "--no-vulkan"), ("verify", b),
                 ("bench", b, "--runs", "2", "--threads", "1", "--no-overhead", "-o", str(tmp_path / "bench"))):
        r = edgepack(*args)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr
    assert (tmp_path / "bench" / "bench.json").is_file() and not (tmp_path / "bench" / "bench.png").exists()
    for args in (("convert", b), ("pack", b), ("demo",)):
        r = edgepack(*args, runtime_only=False)  # the toolchain's own modules ship in the same wheel
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert f"'edgepack {args[0]}' needs the edgepack toolchain" in r.stderr
        assert "pip install 'edgepack[toolchain]'" in r.stderr


def _manifest(bundle: Path) -> str:
    import zipfile

    with zipfile.ZipFile(bundle) as z:
        return z.read("manifest.json").decode()


@pytest.mark.slow
def test_runtime_only_venv_with_numpy1(device_bundle, tmp_path):
    """A venv holding only the runtime wheel, numpy 1.x, click, Pillow and ncnn (no toolchain at all):
    load, run, info and the one-line toolchain error, as on a board."""
    wheel_dir = tmp_path / "wheel"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                        str(wheel_dir), str(ROOT)], capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stderr[-2000:]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    wheel = next(wheel_dir.glob("edgepack-*.whl"))
    r = subprocess.run([str(py), "-m", "pip", "install", "-q", f"{wheel}[ncnn,images]", "numpy>=1.23,<2"],
                       capture_output=True, text=True, timeout=1200)
    if r.returncode != 0 and ("NewConnectionError" in r.stderr or "No matching distribution" in r.stderr):
        pytest.skip(f"the package index is not reachable to build the test venv: {r.stderr.strip()[-200:]}")
    assert r.returncode == 0, r.stderr[-2000:]
    freeze = subprocess.run([str(py), "-m", "pip", "freeze"], capture_output=True, text=True).stdout.lower()
    assert "numpy==1." in freeze
    assert not [p for p in TOOLCHAIN_PACKAGES if f"\n{p}==" in "\n" + freeze], freeze
    ep = venv / "bin" / "edgepack"
    b, img = str(device_bundle), str(device_bundle.parent / "digit.png")
    for args in (("engines",), ("info", b), ("run", b, img, "--engine", "ncnn")):
        r = subprocess.run([str(ep), *args], capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    r = subprocess.run([str(ep), "convert", b], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 2 and "pip install 'edgepack[toolchain]'" in r.stderr, r.stderr
