"""The console script of an installed model wheel (`edgepack wheel`): `mymodel IMAGE... | DIR | --camera N`
runs images, every image of a directory, or camera frames through the installed bundle and prints one line
per input, as `edgepack run` does. Runtime side: plain output, everything from the bundle cleaned."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from edgepack.errors import InputError

IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".pgm", ".png", ".ppm", ".tif", ".tiff", ".webp")


def expand_inputs(inputs: tuple[str, ...]) -> list[str]:
    """Image paths in order; a directory gives its image files sorted by name (not recursive)."""
    out = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            images = sorted(str(f) for f in p.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
            if not images:
                raise InputError(f"directory '{item}' holds no image files ({', '.join(IMAGE_SUFFIXES)})")
            out += images
        elif p.is_file():
            out.append(item)
        else:
            raise InputError(f"'{item}' is not an image file or a directory; check the path")
    return out


def open_camera(index: int):
    """An opened OpenCV capture of camera `index` (OpenCV is not a runtime dependency: only --camera needs it)."""
    # OpenCV logs a probe failure as several WARN lines of its own; the one-line error below says it all
    os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")
    try:
        import cv2
    except ImportError:
        raise InputError("--camera needs OpenCV: pip install opencv-python-headless") from None
    cap = cv2.VideoCapture(index)
    if not cap.isOpened():
        cap.release()
        raise InputError(f"cannot open camera {index}; list cameras with: ls /dev/video*")
    return cap


def _camera_frames(cap, index: int, frames: int):
    """BGR frames from an opened capture until `frames` (0: until Ctrl-C or the camera stops)."""
    n = 0
    while frames == 0 or n < frames:
        ok, frame = cap.read()
        if not ok:
            if n == 0:
                raise InputError(f"camera {index} opened but gave no frame; is another program using it?")
            return
        n += 1
        yield n, frame


def _command(bundle: Path, prog: str) -> click.Command:
    @click.command(name=prog, context_settings={"help_option_names": ["-h", "--help"]})
    @click.argument("inputs", nargs=-1, type=click.Path(path_type=str))
    @click.option("--camera", type=int, default=None, help="Run frames of camera N (OpenCV's device index).")
    @click.option("--frames", type=int, default=0, show_default=True,
                  help="With --camera: stop after this many frames (0: until Ctrl-C).")
    @click.option("--engine", default="auto", show_default=True)
    @click.option("--precision", default="auto", show_default=True)
    @click.option("--threads", type=int, default=None, help="[default: min(4, cores)]")
    def command(inputs, camera, frames, engine, precision, threads) -> int:
        """Run IMAGE(s), the images of a DIR, or --camera N through the model and print the results."""
        from edgepack.cli.term import clean, echo
        from edgepack.runtime.session import load

        if camera is not None and inputs:
            raise InputError("give images / a directory, or --camera N, not both")
        if camera is None and not inputs:
            raise InputError(f"nothing to run: {prog} IMAGE... | DIR | --camera N (see {prog} --help)")
        if frames < 0 or (camera is not None and camera < 0):
            raise InputError("--camera and --frames take numbers >= 0")
        images = expand_inputs(inputs) if inputs else []
        cap = open_camera(camera) if camera is not None else None  # before the model loads: fail fast
        try:
            with load(bundle, engine=engine, precision=precision, threads=threads) as sess:
                echo(f"{clean(sess.manifest.name)}: {sess.task} with {sess.engine} {sess.precision} "
                     f"({sess.choice.threads} threads)")
                for img in images:
                    echo(f"{clean(img)}: {clean(sess.run(img))}")
                if cap is not None:
                    for n, frame in _camera_frames(cap, camera, frames):
                        echo(f"camera {camera} frame {n}: {clean(sess.run(frame, color='BGR'))}")
        finally:
            if cap is not None:
                cap.release()
        return 0

    return command


def main(bundle: str | Path, prog: str, argv: list[str] | None = None) -> int:
    """Entry point of the generated console script; user mistakes print one line and return 2."""
    from edgepack.cli import invoke

    return invoke(_command(Path(bundle), prog), argv, prog, prefix=f"{prog}: error")


if __name__ == "__main__":  # python -m edgepack.cli.model_script BUNDLE ARGS (for testing a bundle directly)
    sys.exit(main(sys.argv[1], "model", sys.argv[2:]))
