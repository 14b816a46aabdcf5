"""Toolchain commands: convert, verify (a convert output directory against ONNX Runtime), demo."""

from __future__ import annotations

import click


@click.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=str))
@click.option("--to", "to", default="ncnn,mnn", show_default=True, help="Targets, comma-separated.")
@click.option("--precision", default="fp32", show_default=True,
              help="fp32, fp16, int8 (comma-separated). int8 needs --calib.")
@click.option("--input-shape", "input_shape", multiple=True, metavar="NAME=1,3,224,224",
              help="Fix an input's shape (repeat per input). Needed when the model has dynamic dims.")
@click.option("-o", "--output", "output", default=None, help="Output directory [default: ./<model>_edgepack].")
@click.option("--seed", default=0, show_default=True, help="Seed of the parity-check inputs.")
@click.option("--samples", default=2, show_default=True, help="Number of seeded inputs for the parity check.")
@click.option("--data", default=None, metavar="DIR|FILE.npz",
              help="Parity inputs: images (through --mean/--std/--color/--resize) or an .npz of tensors keyed by "
                   "input name [default: --calib, else seeded noise].")
@click.option("--keep-going", is_flag=True, help="Keep the artifacts that converted when another fails.")
@click.option("--force", is_flag=True, help="Replace the output directory if it exists.")
@click.option("--calib", default=None, metavar="DIR|FILE.npz",
              help="int8 calibration data: a folder of images or an .npz of tensors keyed by input name.")
@click.option("--eval", "eval_data", default=None, metavar="DIR|FILE.npz",
              help="Held-out data for the gate [default: every 5th calibration sample].")
@click.option("--gate", default=None, metavar='"top1>=0.99"|"cosine>=0.999"',
              help="Accuracy gate for int8; failing layers are kept in float until it passes.")
@click.option("--observer", default="kl", show_default=True,
              help="Activation observer: kl, minmax, percentile[:99.99], aciq.")
@click.option("--mean", default=None, metavar="R,G,B", help="Image preprocessing mean, pixel units [default: 0].")
@click.option("--std", default=None, metavar="R,G,B", help="Image preprocessing std, pixel units [default: 1].")
@click.option("--color", default=None, type=click.Choice(["RGB", "BGR", "GRAY"]), help="Channel order.")
@click.option("--resize", default="stretch", show_default=True,
              type=click.Choice(["stretch", "letterbox", "center_crop"]), help="Image resize mode.")
@click.option("--calib-limit", default=200, show_default=True, help="Use at most N calibration samples.")
@click.option("--mnn-weight-only", is_flag=True, help="MNN int8: quantize weights only (float activations).")
@click.option("--litert-int8-io", is_flag=True, help="LiteRT int8: int8 inputs/outputs instead of float.")
@click.option("--litert-io-layout", "litert_io_layout", type=click.Choice(["onnx", "nhwc"]), default="onnx",
              show_default=True, help="LiteRT model inputs/outputs: the ONNX layout, or NHWC for 4-D tensors "
                                      "(what mobile camera code feeds).")
@click.option("--litert-metadata", "litert_metadata", default=None, metavar="SPEC.json",
              help="Image-classifier metadata for MediaPipe Tasks: JSON with mean, std (per channel, 0-255 "
                   "scale), labels, optional input/output names.")
def convert(model: str, to: str, precision: str, input_shape: tuple[str, ...], output: str | None, seed: int,
            samples: int, data: str | None, keep_going: bool, force: bool, calib: str | None, eval_data: str | None,
            gate: str | None, observer: str, mean: str | None, std: str | None, color: str | None, resize: str,
            calib_limit: int, mnn_weight_only: bool, litert_int8_io: bool, litert_io_layout: str,
            litert_metadata: str | None) -> int:
    """Convert MODEL (.onnx) and check every artifact against ONNX Runtime."""
    from rich.markup import escape

    from edgepack.api import PRECISIONS, describe_parity_inputs, parse_list
    from edgepack.api import convert as run_convert
    from edgepack.cli.term import clean
    from edgepack.cli.ui import convert_table, err, out, steps
    from edgepack.converters import targets
    from edgepack.converters.prepare import parse_input_shapes
    from edgepack.quantize import QuantizeOptions

    shapes = parse_input_shapes(input_shape)
    n = len(parse_list(to, targets(), "target")) * len(parse_list(precision, PRECISIONS, "precision"))
    quant = QuantizeOptions(calib=calib, eval=eval_data, gate=gate, observer=observer, calib_limit=calib_limit,
                            mnn_weight_only=mnn_weight_only, litert_int8_io=litert_int8_io,
                            preprocess=_preprocess_overrides(mean, std, color, resize))
    with steps(2 + 2 * n, "convert") as advance:
        result = run_convert(model, to=to, precision=precision, out_dir=output, input_shapes=shapes, seed=seed,
                             samples=samples, keep_going=keep_going, force=force, progress=advance, quant=quant,
                             data=data,
                             converter_options={"tflite": litert_options(litert_io_layout, litert_metadata)}
                             if "tflite" in parse_list(to, targets(), "target") else None)
    out.print(convert_table(result))
    out.print(f"parity inputs: {describe_parity_inputs(result.parity_inputs)}")
    for r in result.results:
        if r.error:
            err.print(f"[red]{r.engine} {r.precision}:[/red] {escape(clean(r.error))}", soft_wrap=True)
    out.print(f"wrote {result.out_dir} (convert.json + {sum(r.artifact is not None for r in result.results)} "
              "artifacts)")
    return 0 if result.ok else 1


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=str))
@click.option("--data", default=None, metavar="DIR|FILE.npz", help="Inputs [default: convert's seeded inputs].")
@click.option("--limit", default=16, show_default=True, help="Use at most N samples from --data.")
@click.option("--no-vulkan", is_flag=True, help="Skip the ncnn Vulkan vs CPU comparison.")
@click.option("--report-dir", default=None, help="Where to write report.json/.md/.png [default: OUT_DIR].")
def verify(out_dir: str, data: str | None, limit: int, no_vulkan: bool, report_dir: str | None) -> int:
    """Check every artifact in OUT_DIR (from edgepack convert) against ONNX Runtime fp32."""
    from pathlib import Path

    from edgepack.cli.ui import out, steps
    from edgepack.verify.render import table, write
    from edgepack.verify.run import check_out_dir
    from edgepack.verify.run import verify as run_verify

    d = check_out_dir(out_dir)
    with steps(8, "verify") as advance:
        report = run_verify(d, data=data, vulkan=not no_vulkan, limit=limit, progress=advance)
    out.print(table(report))
    diag = report.get("ncnn_int8_layers")
    if diag:
        f = diag["first_divergent"]
        out.print(f"ncnn int8 vs fp32: first layer below cosine {diag['threshold']}: " +
                  (f"{f['layer']} ({f['type']}, cosine {f['cosine']:.6f})" if f else "none"))
    for n in report["notes"]:
        out.print(f"note: {n}")
    paths = write(report, Path(report_dir) if report_dir else d)
    out.print("wrote " + ", ".join(str(p) for p in paths))
    return 0 if report["ok"] else 1


def _preprocess_overrides(mean: str | None, std: str | None, color: str | None, resize: str) -> dict:
    """Image preprocessing options; the size and layout come from the model's input at load time."""
    from edgepack.errors import InputError

    def floats(text: str | None, what: str) -> list[float] | None:
        if text is None:
            return None
        try:
            return [float(v) for v in text.split(",")]
        except ValueError as e:
            raise InputError(f"bad --{what} '{text}'; write numbers separated by commas, e.g. 127.5,127.5,127.5") from e

    d = {"mean": floats(mean, "mean"), "std": floats(std, "std"), "color": color, "resize": resize}
    return {k: v for k, v in d.items() if v is not None}


@click.command()
@click.option("-o", "--output", default=None, help="Keep the converted artifacts in this directory.")
@click.option("--limit", default=None, type=int, help="Use only the first N held-out images.")
@click.option("--force", is_flag=True, help="Replace the output directory if it exists.")
def demo(output: str | None, limit: int | None, force: bool) -> int:
    """Convert the bundled digits classifier to every installed engine and precision and check each one."""
    from edgepack.demo.run import run_demo

    return run_demo(output=output, limit=limit, force=force)


def litert_options(io_layout: str, metadata_path: str | None) -> dict:
    """The LiteRT converter's options from the CLI flags (the metadata spec is read from its JSON file)."""
    import json
    from pathlib import Path

    from edgepack.errors import InputError

    opts: dict = {"io_layout": io_layout}
    if metadata_path:
        p = Path(metadata_path)
        try:
            opts["metadata"] = json.loads(p.read_text())
        except (OSError, ValueError) as e:
            raise InputError(f"cannot read --litert-metadata '{p}' ({e}); pass a JSON file with mean, std "
                             "and labels") from e
        if not isinstance(opts["metadata"], dict):
            raise InputError(f"--litert-metadata '{p}' must hold a JSON object with mean, std and labels")
    return opts


def register(group: click.Group) -> None:
    for cmd in (convert, demo):  # verify: cli/verify.py dispatches a convert directory to the command above
        group.add_command(cmd)
