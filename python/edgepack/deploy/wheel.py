"""`edgepack wheel BUNDLE`: a model as a pip-installable py3-none-any wheel.

The wheel holds one package named after the model: `<module>/__init__.py` (load(), bundle_path(), main()),
and the bundle unpacked under `<module>/bundle/` (manifest.json + the artifact files, byte-identical; only
the chosen engines' artifacts with --engines). Its metadata depends on the edgepack runtime with the extras
of those engines (PEP 508 markers where an engine has no wheels on some boards), and declares the console
script `<name>` and the `edgepack.models` entry point that lets `edgepack.load("<name>")` find it."""

from __future__ import annotations

import json
import keyword
import re
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from packaging.version import InvalidVersion, Version

from edgepack import __version__
from edgepack.deploy.targets import ENGINE_WHEELS, MIN_PYTHON, EngineWheel, Target, plan_engines
from edgepack.deploy.wheelfile import write_wheel
from edgepack.errors import InputError
from edgepack.runtime.bundle.manifest import MANIFEST, validate
from edgepack.runtime.bundle.reader import Bundle

PYPI_FILE_LIMIT = 100 * 1000 * 1000  # PyPI's default per-file upload limit ("File too large ... 100 MB")
ENTRY_POINT_GROUP = "edgepack.models"
ENGINE_ALIASES = {"tflite": "litert"}  # pack's --to name -> the engine its artifacts run on
# import names a model package must not take: they would shadow what the model itself needs to run
_RESERVED = {"edgepack", "numpy", "click", "PIL", "ncnn", "MNN", "ai_edge_litert", "tflite_runtime", "openvino",
             "onnxruntime", "cv2", "pip", "setuptools", "wheel", "packaging"}


@dataclass
class WheelResult:
    path: Path
    dist: str  # PEP 503 normalised distribution name (also the console script)
    module: str  # import name
    version: str
    artifacts: list[str]  # engine-precision keys kept
    requires: list[str]  # Requires-Dist lines
    size: int
    warnings: list[str] = field(default_factory=list)


def normalise_name(name: str) -> str:
    """PEP 503: runs of -, _ and . become one '-', lower case."""
    return re.sub(r"[-_.]+", "-", name).lower()


def check_name(name: str) -> tuple[str, str]:
    """(distribution name, import name) for a model name, or InputError saying what to pass as --name."""
    if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?", name or ""):
        raise InputError(f"model name {name!r} is not a valid package name (letters, digits, '-', '_', '.'; "
                         "starting and ending with a letter or digit); pass --name")
    dist = normalise_name(name)
    module = dist.replace("-", "_")
    if not module.isidentifier() or keyword.iskeyword(module):
        raise InputError(f"model name '{dist}' does not give a Python import name ('{module}'); pass --name with "
                         "a name that starts with a letter")
    if module in _RESERVED or module in sys.stdlib_module_names:
        raise InputError(f"model name '{dist}' would shadow the module '{module}' that Python or edgepack needs; "
                         "pass --name with another name")
    return dist, module


def check_version(version: str) -> str:
    """The PEP 440 normal form of `version`, or InputError."""
    try:
        return str(Version(str(version)))
    except InvalidVersion:
        raise InputError(f"version {version!r} is not a PEP 440 version (like 1.2.0); pass --version") from None


def wheel_filename(dist: str, version: str) -> str:
    """PEP 427 file name: the distribution with '-' escaped to '_'."""
    return f"{dist.replace('-', '_')}-{version}-py3-none-any.whl"


def build_wheel(bundle: str | Path, out_dir: str | Path, name: str | None = None, version: str | None = None,
                engines: list[str] | None = None, target: Target | None = None, force: bool = False) -> WheelResult:
    """Write the model wheel of `bundle` into `out_dir`. `engines` keeps only those engines' artifacts;
    `target` (the wheelhouse) also drops artifacts with no installable engine there, and pins the engine
    extras chosen for that board instead of writing markers."""
    warnings: list[str] = []
    with Bundle(bundle) as b:
        doc = b.manifest.doc
        dist, module = check_name(name or doc["model"]["name"])
        ver = check_version(version if version is not None else doc["model"].get("version") or "")
        kept = _select(doc["artifacts"], engines, target, warnings, Path(bundle).name)
        files: dict[str, bytes | Path] = {}
        for art in kept:
            checked = b.artifact(art["engine"], art["precision"])  # every file sha256-checked on the way
            for rel in sorted(art["sha256"]):
                files[f"{module}/bundle/{rel}"] = (Path(checked.directory) / rel).read_bytes()
        refs = b.manifest.references
        if refs is not None:  # the reference samples of on-device verification (edgepack verify BUNDLE)
            from edgepack.runtime.bundle.references import MAX_REFERENCE_BYTES

            files[f"{module}/bundle/{refs['file']}"] = b.read_file(refs["file"], refs["size_bytes"], refs["sha256"],
                                                                   MAX_REFERENCE_BYTES)
        manifest = _filtered_manifest(doc, kept)
        files[f"{module}/bundle/{MANIFEST}"] = (json.dumps(manifest, indent=2) + "\n").encode()
        kept_engines = [a["engine"] for a in kept]
        requires = requirements(kept_engines, _runtime_floor(doc.get("edgepack_version")), target, warnings)
        files[f"{module}/__init__.py"] = _render_init(module, dist, ver, doc, sorted(set(kept_engines))).encode()
    info = f"{dist.replace('-', '_')}-{ver}.dist-info"
    files[f"{info}/METADATA"] = _metadata(dist, ver, doc["task"], requires).encode()
    files[f"{info}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: edgepack {__version__}\nRoot-Is-Purelib: true\n"
                              "Tag: py3-none-any\n").encode()
    files[f"{info}/entry_points.txt"] = (f"[console_scripts]\n{dist} = {module}:main\n\n"
                                         f"[{ENTRY_POINT_GROUP}]\n{dist} = {module}:bundle_path\n").encode()
    files[f"{info}/top_level.txt"] = f"{module}\n".encode()
    path = write_wheel(Path(out_dir) / wheel_filename(dist, ver), files, info, force=force)
    size = path.stat().st_size
    if size > PYPI_FILE_LIMIT:
        warnings.append(f"{path.name} is {size / 1e6:.0f} MB: PyPI refuses files over 100 MB unless the project "
                        "has a raised limit (ship it in a wheelhouse, or keep fewer artifacts with --engines)")
    return WheelResult(path, dist, module, ver, [f"{a['engine']}-{a['precision']}" for a in kept], requires, size,
                       warnings)


def _select(artifacts: list[dict], engines: list[str] | None, target: Target | None, warnings: list[str],
            where: str) -> list[dict]:
    have = sorted({a["engine"] for a in artifacts})
    kept = list(artifacts)
    if engines:
        engines = [ENGINE_ALIASES.get(e, e) for e in engines]
        unknown = [e for e in engines if e not in have]
        if unknown:
            raise InputError(f"--engines {','.join(unknown)}: the bundle has no such artifacts; it has "
                             f"{', '.join(have)}")
        kept = [a for a in kept if a["engine"] in engines]
    if target is None:
        return kept
    plan = plan_engines(sorted({a["engine"] for a in kept}), target)
    for engine, why in sorted(plan.refused.items()):
        keys = ", ".join(f"{a['engine']}-{a['precision']}" for a in kept if a["engine"] == engine)
        warnings.append(f"dropped {keys}: no installable engine on {target.describe()}: {why}")
    kept = [a for a in kept if a["engine"] in plan.chosen]
    if not kept:
        reasons = "; ".join(f"{e}: {why}" for e, why in sorted(plan.refused.items()))
        raise InputError(f"no artifact of {where} can run on {target.describe()} ({reasons}); repack the bundle "
                         "with an engine that has wheels there (ncnn has them for every board)")
    return kept


def _filtered_manifest(doc: dict, kept: list[dict]) -> dict:
    keys = {(a["engine"], a["precision"]) for a in kept}
    out = dict(doc)
    out["artifacts"] = [a for a in doc["artifacts"] if (a["engine"], a["precision"]) in keys]
    out["benchmarks"] = [r for r in doc["benchmarks"] if (r.get("engine"), r.get("precision")) in keys]
    return validate(out, "the manifest of the wheel")


def _runtime_floor(written_by: object) -> str:
    """The lowest runtime that reads this bundle: the edgepack that wrote it (schema versions only grow)."""
    try:
        return str(Version(str(written_by)))
    except InvalidVersion:
        return __version__


def requirements(engines: list[str], floor: str, target: Target | None, warnings: list[str]) -> list[str]:
    """Requires-Dist lines: the runtime with [images] (the console script decodes image files) and each
    engine's extra; for a generic wheel the PEP 508 markers of where each engine's wheels exist."""
    groups: dict[str, set[str]] = {"": {"edgepack[images]"}}
    extras = runtime_extras()
    for engine in sorted(set(engines)):
        if target is not None:
            chosen = plan_engines([engine], target).chosen[engine]
            groups[""].add(chosen.requirement_for(extras))
            continue
        options = ENGINE_WHEELS.get(engine)
        if not options:
            warnings.append(f"engine '{engine}' has no known wheels: the model wheel does not install it")
            continue
        for marker, wheel in _markers(options):
            groups.setdefault(marker, set()).add(wheel.requirement_for(extras))
    lines = []
    for marker in sorted(groups):
        extras = sorted(r[9:-1] for r in groups[marker] if r.startswith("edgepack["))
        plain = sorted(r for r in groups[marker] if not r.startswith("edgepack["))
        reqs = ([f"edgepack[{','.join(extras)}]>={floor}"] if extras else []) + plain
        lines += [r + (f"; {marker}" if marker else "") for r in reqs]
    return lines


def runtime_extras() -> set[str] | None:
    """The extras of the installed edgepack (the source the runtime wheel is built from); None if unknown."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        return set(metadata("edgepack").get_all("Provides-Extra") or [])
    except PackageNotFoundError:
        return None


def _markers(options: tuple[EngineWheel, ...]) -> list[tuple[str, EngineWheel]]:
    """(marker, wheel) per option: option i where its own atoms hold and every earlier option's do not.
    PEP 508 has no 'not', so a failed earlier option is written as the disjunction of its negated atoms."""
    flip = {"!=": "==", "==": "!=", ">=": "<", "<": ">="}
    out, earlier = [], []
    for w in options:
        parts = [f'{v} {op} "{val}"' for v, op, val in w.atoms()]
        for atoms in earlier:
            alts = [f'{v} {flip[op]} "{val}"' for v, op, val in atoms]
            parts.append(alts[0] if len(alts) == 1 else "(" + " or ".join(alts) + ")")
        out.append((" and ".join(parts), w))
        atoms = w.atoms()
        if not atoms:
            break  # available everywhere the markers can tell: later options would never be chosen
        earlier.append(atoms)
    return out


def _render_init(module: str, dist: str, version: str, doc: dict, engines: list[str]) -> str:
    text = resources.files("edgepack.deploy").joinpath("model_init.py.in").read_text()
    task = re.sub(r"\W", "", str(doc["task"]))
    values = {"@MODULE@": module, "@DIST@": dist, "@SCRIPT@": dist, "@VERSION@": version, "@TASK@": task,
              "@EDGEPACK@": __version__, "@MODEL_REPR@": repr(str(doc["model"]["name"])),
              "@ENGINE_TUPLE@": repr(tuple(engines))}
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def _metadata(dist: str, version: str, task: str, requires: list[str]) -> str:
    task = re.sub(r"\W", "", str(task))
    lines = ["Metadata-Version: 2.1", f"Name: {dist}", f"Version: {version}",
             f"Summary: edgepack model {dist} ({task}): import {dist.replace('-', '_')}; .load(), or edgepack.load",
             f"Requires-Python: >={MIN_PYTHON[0]}.{MIN_PYTHON[1]}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    return "\n".join(lines) + "\n"
