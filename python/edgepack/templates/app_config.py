"""edgepack_model.cfg: a bundle's manifest flattened to `key value...` lines for native apps (parsed by
cpp/src/app/config.cpp, which documents and checks every key). Text that comes from the bundle (names,
labels) is checked or cleaned here so a line can never be split or forged."""

from __future__ import annotations

import re

from edgepack.errors import InputError
from edgepack.runtime.bundle.manifest import Manifest

MAGIC = "edgepack-app-config 1"
_TOKEN = re.compile(r"[A-Za-z0-9_.:/\-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _token(value: str, what: str) -> str:
    if not _TOKEN.fullmatch(value):
        raise InputError(f"{what} '{_CONTROL.sub('?', value)[:80]}' has characters an app config cannot carry "
                         "(spaces or symbols); rename it in the ONNX model and pack the bundle again")
    return value


def _text(value: str) -> str:
    return _CONTROL.sub(" ", value).strip()


def _num(v: float) -> str:
    return repr(float(v))


def app_config(manifest: Manifest, artifact: dict, files: dict[str, str]) -> str:
    """The config for `artifact` (a manifest artifact entry) whose files are shipped under the names
    `files` ({role: file name}); sha256 lines carry the bundle's digests."""
    pre, post = manifest.preprocess, manifest.postprocess
    lines = [MAGIC, f"name {_text(manifest.name)}", f"task {manifest.task}", f"engine {artifact['engine']}",
             f"precision {artifact['precision']}"]
    for role, name in sorted(files.items()):
        lines.append(f"file {_token(role, 'file role')} {_token(name, 'file name')}")
        lines.append(f"sha256 {name} {artifact['sha256'][artifact['files'][role]]}")
    for kind in ("inputs", "outputs"):
        for t in artifact[kind]:
            shape = ",".join(str(int(d)) for d in t["shape"])
            engine_name = t.get("engine_name") or t["name"]
            lines.append(f"{kind[:-1]} {_token(t['name'], 'tensor name')} {_token(engine_name, 'tensor name')} "
                         f"{_token(t['dtype'], 'dtype')} {shape}")
    lines += [f"pre.input {_token(pre.input, 'tensor name')}", f"pre.size {pre.width} {pre.height}",
              f"pre.color {pre.color}", f"pre.resize {pre.resize}", f"pre.layout {pre.layout}",
              f"pre.dtype {pre.dtype}", "pre.mean " + " ".join(_num(v) for v in pre.per_channel("mean")),
              "pre.std " + " ".join(_num(v) for v in pre.per_channel("std")), f"pre.pad_value {pre.pad_value}",
              f"pre.crop_fraction {_num(pre.crop_fraction)}",
              f"post.kind {post.kind}", f"post.output {_token(post.output, 'tensor name')}",
              f"post.top_k {post.top_k}", f"post.softmax {int(post.softmax)}", f"post.yolo_layout {post.yolo_layout}",
              f"post.box_format {post.box_format}", f"post.has_objectness {int(post.has_objectness)}",
              f"post.score_threshold {_num(post.score_threshold)}", f"post.iou_threshold {_num(post.iou_threshold)}",
              f"post.max_detections {post.max_detections}", f"post.class_agnostic {int(post.class_agnostic)}"]
    lines += [f"label {_text(label)}" for label in manifest.labels]
    return "\n".join(lines) + "\n"
