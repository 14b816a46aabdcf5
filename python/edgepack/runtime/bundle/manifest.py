"""manifest.json: the schema (manifest.schema.json beside this file, published as docs/manifest-v1.schema.json),
validation with messages that say what is wrong and what to do, and typed accessors."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from edgepack.errors import BundleError
from edgepack.runtime.artifact import Artifact, TensorInfo
from edgepack.runtime.bundle.schema_check import iter_errors
from edgepack.runtime.pipeline.spec import POST_KINDS, TASKS, PostprocessSpec, PreprocessSpec

FORMAT = "edgepack.bundle"
SCHEMA_VERSION = 1
MANIFEST = "manifest.json"


@functools.lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(Path(__file__).with_name("manifest.schema.json").read_text(encoding="utf-8"))


def check_relpath(path: str, where: str = "manifest.json") -> str:
    """A bundle-relative POSIX path, or BundleError: absolute paths, drive letters, backslashes and '..' would
    let a bundle read or write outside itself."""
    if not isinstance(path, str) or not path:
        raise BundleError(f"{where}: empty file path; repack the bundle with edgepack pack")
    parts = PurePosixPath(path).parts
    if path.startswith("/") or "\\" in path or (len(path) > 1 and path[1] == ":") or ".." in parts or \
            any(p in ("", ".") for p in path.split("/")):
        raise BundleError(f"{where}: refusing file path '{path}' (absolute, '..' or not a plain relative path); "
                          "a bundle may only name files inside itself: repack it with edgepack pack")
    return path


def validate(doc: object, where: str = MANIFEST) -> dict:
    """Check a parsed manifest: format, schema version (a newer one gets its own message), task, the JSON
    Schema, safe paths and internal consistency. Returns the document."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BundleError(f"{where} is not an edgepack bundle manifest (no \"format\": \"{FORMAT}\"); "
                          "build bundles with edgepack pack")
    version = doc.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise BundleError(f"{where}: bad schema_version {version!r}; repack the bundle with edgepack pack")
    if version > SCHEMA_VERSION:
        raise BundleError(f"{where} uses bundle schema {version}, written by edgepack "
                          f"{doc.get('edgepack_version', '?')}; this edgepack reads schema {SCHEMA_VERSION} "
                          "only: upgrade edgepack (pip install -U edgepack)")
    if doc.get("task") not in TASKS:
        raise BundleError(f"{where}: unknown task {doc.get('task')!r}; this edgepack knows {', '.join(TASKS)} "
                          "(upgrade edgepack if the bundle comes from a newer version)")
    for i, art in enumerate(doc.get("artifacts") or []):
        if isinstance(art, dict):
            for p in list((art.get("files") or {}).values()) + list(art.get("sha256") or {}):
                check_relpath(p, f"{where}: artifacts[{i}]")
    refs = (doc.get("verification") or {}).get("references") if isinstance(doc.get("verification"), dict) else None
    if isinstance(refs, dict):
        check_relpath(refs.get("file"), f"{where}: verification.references")
    try:
        _schema_check(doc, where)
        _consistency(doc, where)
    except RecursionError:
        raise BundleError(f"{where} is nested too deeply to be a manifest; repack the bundle") from None
    return doc


def _schema_check(doc: dict, where: str) -> None:
    errors = sorted(iter_errors(doc, schema(), schema()), key=lambda e: [str(p) for p in e[0]])
    if errors:
        path, message = errors[0]
        at = "/".join(str(p) for p in path) or "(top level)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise BundleError(f"{where} does not match bundle schema {SCHEMA_VERSION} at {at}: {message[:300]}"
                          f"{more}; repack the bundle with edgepack pack")


def _consistency(doc: dict, where: str) -> None:
    inputs = {t["name"] for t in doc["inputs"]}
    outputs = {t["name"] for t in doc["outputs"]}
    task, post, pre = doc["task"], doc["postprocess"], doc.get("preprocess")
    if post["kind"] != POST_KINDS[task]:
        raise BundleError(f"{where}: task '{task}' needs postprocess '{POST_KINDS[task]}', found '{post['kind']}'")
    if post["kind"] != "none" and post.get("output") not in outputs:
        raise BundleError(f"{where}: postprocess reads output '{post.get('output')}', the model has {sorted(outputs)}")
    if pre is not None and pre["input"] not in inputs:
        raise BundleError(f"{where}: preprocess feeds input '{pre['input']}', the model has {sorted(inputs)}")
    if task != "raw" and pre is None:
        raise BundleError(f"{where}: task '{task}' needs a preprocess spec")
    refs = doc["verification"].get("references")
    if refs is not None and any(refs["file"] in art["sha256"] for art in doc["artifacts"]):
        raise BundleError(f"{where}: verification.references names an artifact file; repack the bundle")
    keys = set()
    for i, art in enumerate(doc["artifacts"]):
        key = f"{art['engine']}-{art['precision']}"
        if key in keys:
            raise BundleError(f"{where}: artifact {key} is listed twice")
        keys.add(key)
        if set(art["files"].values()) != set(art["sha256"]):
            raise BundleError(f"{where}: artifacts[{i}] ({key}) has a sha256 entry for a different set of files "
                              "than it lists; repack the bundle")


@dataclass
class Manifest:
    """Typed view of a validated manifest document."""

    doc: dict

    @property
    def task(self) -> str:
        return self.doc["task"]

    @property
    def name(self) -> str:
        return self.doc["model"]["name"]

    @property
    def labels(self) -> list[str]:
        return list(self.doc["labels"])

    @property
    def inputs(self) -> list[TensorInfo]:
        return [TensorInfo.from_dict(t) for t in self.doc["inputs"]]

    @property
    def outputs(self) -> list[TensorInfo]:
        return [TensorInfo.from_dict(t) for t in self.doc["outputs"]]

    @property
    def preprocess(self) -> PreprocessSpec | None:
        pre = self.doc.get("preprocess")
        return None if pre is None else PreprocessSpec.from_dict(pre)

    @property
    def postprocess(self) -> PostprocessSpec:
        return PostprocessSpec.from_dict(self.doc["postprocess"])

    @property
    def artifacts(self) -> list[dict]:
        return list(self.doc["artifacts"])

    @property
    def references(self) -> dict | None:
        """verification.references: where the reference samples are (None: packed without them)."""
        return self.doc["verification"].get("references")

    @property
    def benchmarks(self) -> list[dict]:
        return list(self.doc["benchmarks"])

    def artifact_entry(self, engine: str, precision: str) -> dict:
        for a in self.doc["artifacts"]:
            if a["engine"] == engine and a["precision"] == precision:
                return a
        have = ", ".join(f"{a['engine']}-{a['precision']}" for a in self.doc["artifacts"])
        raise BundleError(f"the bundle has no {engine}-{precision} artifact; it has {have}")

    def to_artifact(self, entry: dict, root: str) -> Artifact:
        """An Artifact whose directory is the bundle root (files are bundle-relative paths)."""
        keep = {k: entry[k] for k in ("engine", "precision", "files", "converter", "converter_version", "sha256",
                                      "size_bytes", "inputs", "outputs")}
        return Artifact.from_dict(keep, root)


def bundle_files(doc: dict) -> list[str]:
    """Every member a (validated) manifest names: the artifacts' files, then the reference samples."""
    names = [rel for a in doc["artifacts"] for rel in a["sha256"]]
    refs = doc["verification"].get("references")
    return names + ([refs["file"]] if refs else [])
