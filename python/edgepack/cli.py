"""The `edgepack` command line. User mistakes print one line and exit 2; parity failures exit 1."""

from __future__ import annotations

import os

import click

from . import __version__
from .errors import Error


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgepack")
def cli() -> None:
    """Convert, verify and pack ONNX models for ncnn, MNN and LiteRT."""


@cli.command()
def engines() -> int:
    """List the inference engines and whether they are installed here."""
    from rich.table import Table

    from .engines import list_engines
    from .ui import out

    t = Table(title="edgepack engines")
    for col in ("engine", "package", "installed", "version"):
        t.add_column(col)
    for st in list_engines():
        t.add_row(st.name, st.package, "[green]yes[/green]" if st.installed else "[red]no[/red]",
                  st.version or f"pip install {st.package}")
    out.print(t)
    return 0


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=str))
@click.option("--to", "to", default="ncnn,mnn", show_default=True, help="Targets, comma-separated.")
@click.option("--precision", default="fp32", show_default=True, help="fp32, fp16 or both (comma-separated).")
@click.option("--input-shape", "input_shape", multiple=True, metavar="NAME=1,3,224,224",
              help="Fix an input's shape (repeat per input). Needed when the model has dynamic dims.")
@click.option("-o", "--output", "output", default=None, help="Output directory [default: ./<model>_edgepack].")
@click.option("--seed", default=0, show_default=True, help="Seed of the parity-check inputs.")
@click.option("--samples", default=2, show_default=True, help="Number of seeded inputs for the parity check.")
@click.option("--keep-going", is_flag=True, help="Keep the artifacts that converted when another fails.")
@click.option("--force", is_flag=True, help="Replace the output directory if it exists.")
def convert(model: str, to: str, precision: str, input_shape: tuple[str, ...], output: str | None, seed: int,
            samples: int, keep_going: bool, force: bool) -> int:
    """Convert MODEL (.onnx) and check every artifact against ONNX Runtime."""
    from rich.markup import escape

    from .api import convert as run_convert
    from .api import parse_list
    from .converters import targets
    from .converters.base import PRECISIONS
    from .converters.prepare import parse_input_shapes
    from .ui import convert_table, err, out, steps

    shapes = parse_input_shapes(input_shape)
    n = len(parse_list(to, targets(), "target")) * len(parse_list(precision, PRECISIONS, "precision"))
    with steps(2 + 2 * n, "convert") as advance:
        result = run_convert(model, to=to, precision=precision, out_dir=output, input_shapes=shapes, seed=seed,
                             samples=samples, keep_going=keep_going, force=force, progress=advance)
    out.print(convert_table(result))
    for r in result.results:
        if r.error:
            err.print(f"[red]{r.engine} {r.precision}:[/red] {escape(r.error)}", soft_wrap=True)
    out.print(f"wrote {result.out_dir} (convert.json + {sum(r.artifact is not None for r in result.results)} "
              "artifacts)")
    return 0 if result.ok else 1


@cli.command()
@click.option("-o", "--output", default=None, help="Keep the converted artifacts in this directory.")
@click.option("--limit", default=None, type=int, help="Use only the first N held-out images.")
@click.option("--force", is_flag=True, help="Replace the output directory if it exists.")
def demo(output: str | None, limit: int | None, force: bool) -> int:
    """Convert the bundled digits classifier to every installed engine and precision and check each one."""
    from .demo.run import run_demo

    return run_demo(output=output, limit=limit, force=force)


from .cli_bundle import register as _register_bundle_commands  # noqa: E402

_register_bundle_commands(cli)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script (which passes the return value to sys.exit)."""
    try:
        rc = cli.main(args=argv, prog_name="edgepack", standalone_mode=False)
    except Error as e:
        from rich.markup import escape

        from .ui import err

        err.print(f"[red]error:[/red] {escape(str(e))}", soft_wrap=True)
        if os.environ.get("EDGEPACK_DEBUG") and getattr(e, "details", ""):
            err.print(escape(e.details), soft_wrap=True)
        return 2
    except click.exceptions.Abort:
        return 130
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    return rc if isinstance(rc, int) else 0
