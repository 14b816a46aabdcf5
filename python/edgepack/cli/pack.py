"""`edgepack pack MODEL.onnx`: convert, verify, bench and write one .edgepack bundle (toolchain)."""

from __future__ import annotations

from pathlib import Path

import click

from edgepack.cli.args import parse_threads

_POST_OPTIONS = {  # option -> (PostprocessSpec field, task it belongs to)
    "top_k": ("top_k", "classify"), "no_softmax": ("softmax", "classify"),
    "score_threshold": ("score_threshold", "detect"), "iou_threshold": ("iou_threshold", "detect"),
    "max_detections": ("max_detections", "detect"), "yolo_layout": ("yolo_layout", "detect"),
    "box_format": ("box_format", "detect"), "objectness": ("has_objectness", "detect"),
    "class_agnostic": ("class_agnostic", "detect"),
}


def _post_fields(task: str, given: dict) -> dict:
    from edgepack.errors import InputError

    post = {}
    for opt, value in given.items():
        if value is None or value is False:
            continue
        field, owner = _POST_OPTIONS[opt]
        if owner != task:
            raise InputError(f"--{opt.replace('_', '-')} applies to --task {owner}, not {task}")
        post[field] = (not value) if opt == "no_softmax" else value
    return post


@click.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=str))
@click.option("--task", type=click.Choice(["classify", "detect", "segment", "raw"]), default="classify",
              show_default=True, help="What the model does; decides the postprocessing and Session.run's result.")
@click.option("--labels", "labels_file", default=None, help="Text file, one class label per line.")
@click.option("--mean", default=None, help="Per-channel mean in pixel units (0..255), e.g. 123.675,116.28,103.53.")
@click.option("--std", default=None, help="Per-channel std in pixel units, e.g. 58.395,57.12,57.375.")
@click.option("--color", type=click.Choice(["RGB", "BGR", "GRAY"]), default="RGB", show_default=True,
              help="Channel order the model expects.")
@click.option("--resize", type=click.Choice(["stretch", "letterbox", "center_crop"]), default=None,
              help="How an image of any size reaches the input size [default: letterbox for detect, else stretch].")
@click.option("--pad-value", default=114, show_default=True, help="Letterbox fill (pixel value).")
@click.option("--crop-fraction", default=1.0, show_default=True, help="center_crop: crop / resized shorter side.")
@click.option("--input-name", default=None, help="ONNX input that takes the image [default: the first].")
@click.option("--output-name", default=None, help="ONNX output the postprocessing reads [default: the first].")
@click.option("--top-k", type=int, default=None, help="classify: classes to return [5].")
@click.option("--no-softmax", is_flag=True, help="classify: the output already holds probabilities.")
@click.option("--score-threshold", type=float, default=None, help="detect: minimum score [0.25].")
@click.option("--iou-threshold", type=float, default=None, help="detect: NMS IoU threshold [0.45].")
@click.option("--max-detections", type=int, default=None, help="detect: keep at most N boxes [300].")
@click.option("--yolo-layout", type=click.Choice(["attrs_first", "anchors_first"]), default=None,
              help="detect: output is [4+C, N] (YOLOv8) or [N, 4+C] [attrs_first].")
@click.option("--box-format", type=click.Choice(["cxcywh", "xyxy"]), default=None, help="detect [cxcywh].")
@click.option("--objectness", is_flag=True, help="detect: one objectness value follows the box (YOLOv5).")
@click.option("--class-agnostic", is_flag=True, help="detect: NMS across classes.")
@click.option("--to", "to", default="ncnn,mnn", show_default=True, help="Targets, comma-separated.")
@click.option("--precision", default="fp32,fp16", show_default=True, help="fp32, fp16, int8 (comma-separated).")
@click.option("--calib", default=None, help="int8: directory of calibration images (also the parity inputs "
                                            "when --data is not given).")
@click.option("--data", default=None, metavar="DIR|FILE.npz",
              help="Parity inputs: images (through the bundle's preprocessing) or an .npz of tensors keyed by "
                   "input name [default: --calib, else seeded noise].")
@click.option("--input-shape", "input_shape", multiple=True, metavar="NAME=1,3,224,224", help="Fix dynamic dims.")
@click.option("--name", default=None, help="Model name [default: the file name].")
@click.option("--model-version", default="1", show_default=True)
@click.option("--bench-runs", default=20, show_default=True, help="Timed runs per artifact (0: no benchmark).")
@click.option("--threads", default="1", show_default=True, help="Thread counts to benchmark, e.g. 1,4.")
@click.option("-o", "--output", default=None, help="Bundle path [default: ./<model>.edgepack].")
@click.option("--keep-going", is_flag=True, help="Keep the artifacts that converted when another fails.")
@click.option("--force", is_flag=True, help="Replace the output bundle if it exists.")
@click.option("--references", default=2, show_default=True,
              help="Reference samples (inputs + ONNX Runtime outputs, 0-4, capped at 8 MiB) stored for "
                   "`edgepack verify BUNDLE` on the device.")
def pack(model, task, labels_file, mean, std, color, resize, pad_value, crop_fraction, input_name, output_name,
         to, precision, calib, data, input_shape, name, model_version, bench_runs, threads, output, keep_going, force,
         references, **post_opts) -> int:
    """Convert MODEL (.onnx), verify, bench and pack everything into one .edgepack bundle."""
    from rich.markup import escape

    from edgepack.api import describe_parity_inputs, parse_list
    from edgepack.cli.term import clean
    from edgepack.cli.ui import err, out, pack_table, steps
    from edgepack.converters import targets
    from edgepack.converters.prepare import parse_input_shapes
    from edgepack.pack import PackOptions, check_precisions, parse_floats, read_labels
    from edgepack.pack import pack as run_pack

    opts = PackOptions(task=task, labels=read_labels(labels_file), mean=parse_floats(mean, "mean"),
                       std=parse_floats(std, "std"), color=color,
                       resize=resize or ("letterbox" if task == "detect" else "stretch"), pad_value=pad_value,
                       crop_fraction=crop_fraction, input=input_name, output=output_name,
                       post=_post_fields(task, post_opts), name=name, version=model_version)
    thread_list = parse_threads(threads)
    n = len(parse_list(to, targets(), "target")) * len(check_precisions(precision))
    out_path = output or f"{Path(model).stem}.edgepack"
    with steps(3 + n * (2 + len(thread_list)), "pack") as advance:
        res = run_pack(model, out_path, opts, to=to, precision=precision, calib=calib, data=data,
                       input_shapes=parse_input_shapes(input_shape), bench_runs=bench_runs, threads=thread_list,
                       keep_going=keep_going, force=force, progress=advance, references=references)
    out.print(pack_table(res))
    out.print(f"parity inputs: {describe_parity_inputs(res.convert.parity_inputs)}")
    for r in res.convert.results:
        if r.error:
            err.print(f"[red]{r.engine} {r.precision}:[/red] {escape(clean(r.error))}", soft_wrap=True)
    for note in res.notes:
        err.print(f"[yellow]note:[/yellow] {escape(clean(note))}", soft_wrap=True)
    size = res.path.stat().st_size
    out.print(f"wrote {res.path} ({len(res.manifest['artifacts'])} artifacts, {size / 1e6:.2f} MB)")
    return 0 if res.ok else 1


def register(group: click.Group) -> None:
    group.add_command(pack)
