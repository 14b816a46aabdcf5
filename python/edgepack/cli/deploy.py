"""`edgepack wheel` and `edgepack wheelhouse` (toolchain): a bundle as a pip-installable model wheel, and an
offline install set for one board. The logic lives in edgepack/deploy/; this module parses and prints."""

from __future__ import annotations

import click


def _engines(value: str | None) -> list[str] | None:
    return [e.strip() for e in value.split(",") if e.strip()] if value else None


@click.command()
@click.argument("bundle", type=click.Path(path_type=str))
@click.option("-o", "--out", "out", default="dist", show_default=True, help="Directory for the wheel.")
@click.option("--name", default=None, help="Distribution / import / console script name [default: the model's].")
@click.option("--version", "version", default=None, help="PEP 440 version [default: the model's version].")
@click.option("--engines", default=None, help="Keep only these engines' artifacts, comma-separated (ncnn,litert).")
@click.option("--force", is_flag=True, help="Replace a wheel of the same name in the output directory.")
def wheel(bundle: str, out: str, name: str | None, version: str | None, engines: str | None, force: bool) -> int:
    """Package BUNDLE as a py3-none-any wheel: `pip install` it, then `import NAME; NAME.load()`,
    `edgepack.load("NAME")` or the console script `NAME IMAGE... | DIR | --camera N`."""
    from edgepack.cli.term import clean, echo, error, fmt_size
    from edgepack.deploy.wheel import build_wheel

    res = build_wheel(bundle, out, name=name, version=version, engines=_engines(engines), force=force)
    for w in res.warnings:
        error(f"warning: {clean(w)}")
    echo(f"wrote {clean(res.path)} ({fmt_size(res.size)}): {', '.join(res.artifacts)}")
    for r in res.requires:
        echo(f"  requires {r}")
    return 0


@click.command()
@click.argument("bundle", type=click.Path(path_type=str))
@click.option("--platform", "platform_", required=True, help="linux_aarch64 | linux_armv7l | linux_x86_64")
@click.option("--python", "python", default="3.11", show_default=True, help="The board's Python (X.Y).")
@click.option("--glibc", default=None, help="The board's glibc (ldd --version) [default: 2.36, Pi OS bookworm / "
                                            "Debian 12; 2.35 for JetPack 6 / Ubuntu 22.04].")
@click.option("-o", "--out", "out", required=True, help="Directory to write (copy it to the board).")
@click.option("--name", default=None, help="Model distribution name [default: the model's].")
@click.option("--version", "version", default=None, help="Model wheel version [default: the model's].")
@click.option("--engines", default=None, help="Keep only these engines' artifacts, comma-separated.")
@click.option("--runtime-wheel", default=None, type=click.Path(path_type=str),
              help="Use this edgepack runtime wheel for the board instead of building one.")
@click.option("--find-links", multiple=True, type=click.Path(path_type=str),
              help="Extra directory of wheels for pip download (repeatable).")
@click.option("--force", is_flag=True, help="Replace a non-empty output directory.")
def wheelhouse(bundle: str, platform_: str, python: str, glibc: str | None, out: str, name: str | None,
               version: str | None, engines: str | None, runtime_wheel: str | None, find_links: tuple[str, ...],
               force: bool) -> int:
    """Write an offline install set for a board: the model wheel, the runtime wheel, engine and numpy wheels
    for the board, and install.sh (`bash install.sh [--jetson] [VENV]` on the board, no network)."""
    from edgepack.cli.term import Table, clean, echo, error, fmt_size
    from edgepack.deploy.targets import make_target
    from edgepack.deploy.wheelhouse import build_wheelhouse

    target = make_target(platform_, python, glibc)
    res = build_wheelhouse(bundle, out, target, name=name, version=version, engines=_engines(engines),
                           runtime_wheel=runtime_wheel, find_links=list(find_links), force=force,
                           log=lambda m: error(clean(m)))
    echo(f"{clean(res.model.dist)} {res.model.version} for {target.describe()}: "
         f"{', '.join(res.model.artifacts)}; engines " +
         ", ".join(f"{e} -> {d}" for e, d in res.engines.items()) + f"; runtime wheel {res.runtime}")
    t = Table(f"wheelhouse {clean(res.out)}", ("wheel", "size"), right=("size",))
    for fname, size in res.wheels:
        t.add_row(fname, fmt_size(size))
    t.add_row("total", fmt_size(res.total))
    echo(t.render())
    echo(f"on the board: copy {clean(res.out)} there, then: bash {clean(res.out.name)}/install.sh [--jetson] [VENV]")
    return 0


def register(group: click.Group) -> None:
    for cmd in (wheel, wheelhouse):
        group.add_command(cmd)
