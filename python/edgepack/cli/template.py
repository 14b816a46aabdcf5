"""`edgepack template android|ios BUNDLE -o DIR`: an app project generated from a bundle (toolchain)."""

from __future__ import annotations

import click


@click.command()
@click.argument("target", type=click.Choice(["android", "ios"]))
@click.argument("bundle", type=click.Path(path_type=str))
@click.option("-o", "--out", "out", required=True, help="Project directory to write.")
@click.option("--engine", default=None, help="android: litert (default) | ncnn; ios: ncnn (default) | litert.")
@click.option("--package", "package", default=None, help="android: application id / Kotlin package.")
@click.option("--bundle-id", "bundle_id", default=None, help="ios: bundle identifier.")
@click.option("--name", "app_name", default=None, help="App name shown on the device.")
@click.option("--force", is_flag=True, help="Replace a non-empty output directory.")
def template(target: str, bundle: str, out: str, engine: str | None, package: str | None,
             bundle_id: str | None, app_name: str | None, force: bool) -> None:
    """Write an app project that runs BUNDLE on the camera (Android Studio or Xcode)."""
    from edgepack.templates import get_generator
    from edgepack.templates.render import write_project

    options = {"engine": engine, "package": package, "bundle_id": bundle_id, "name": app_name}
    gen = get_generator(target)
    files = gen.generate(bundle, options)
    write_project(files, out, force=force)
    click.echo(f"wrote {len(files)} files to {out}")
    click.echo(gen.next_step(out))


def register(group: click.Group) -> None:
    group.add_command(template)
