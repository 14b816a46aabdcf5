"""The `edgepack` command line. User mistakes print one line and exit 2; parity failures exit 1."""

from __future__ import annotations

import errno
import os

import click

from edgepack import __version__
from edgepack.errors import Error


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgepack")
def cli() -> None:
    """Convert, verify and pack ONNX models for edge engines (toolchain); run, check and bench bundles
    on the device (runtime)."""


from edgepack.cli import bundle, convert, deploy, doctor, pack, template, verify  # noqa: E402  (commands register)

for _module in (convert, pack, bundle, template, verify, doctor, deploy):
    _module.register(cli)


# Packages only the toolchain extra installs; a command that needs one names the install that adds it.
TOOLCHAIN_PACKAGES = {"onnx", "onnxruntime", "onnxslim", "pnnx", "rich", "matplotlib", "torch", "flatbuffers",
                      "openvino", "nncf"}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script (which passes the return value to sys.exit)."""
    return invoke(cli, argv, "edgepack")


def invoke(command: click.Command, argv: list[str] | None, prog: str, prefix: str = "error") -> int:
    """Run a click command the edgepack way: user mistakes one line and exit 2, every other failure class one
    line too (the model wheels' console scripts use it as well)."""
    from edgepack.cli.term import clean, error

    try:
        rc = command.main(args=argv, prog_name=prog, standalone_mode=False)
    except Error as e:
        error(f"{prefix}: {clean(e)}")
        if os.environ.get("EDGEPACK_DEBUG") and getattr(e, "details", ""):
            error(clean(e.details))
        return 2
    except ModuleNotFoundError as e:
        top = (e.name or "").split(".")[0]
        if top not in TOOLCHAIN_PACKAGES:
            raise
        cmd = next((a for a in (argv if argv is not None else __import__("sys").argv[1:])
                    if not a.startswith("-")), "this command")
        error(f"error: 'edgepack {clean(cmd)}' needs the edgepack toolchain ({top} is not installed here); "
              "install it with: pip install 'edgepack[toolchain]'")
        return 2
    except click.exceptions.Abort:
        return 130
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except KeyboardInterrupt:
        error("interrupted: nothing was written (outputs are built beside their target and renamed at the end)")
        return 130
    except MemoryError:
        error("error: out of memory; use a smaller model, input or --samples, or a machine with more memory")
        return 2
    except RecursionError:
        error("error: the input is nested too deeply to read; it is not a file edgepack wrote")
        return 2
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            where = f" writing '{clean(e.filename)}'" if e.filename else ""
            error(f"error: no space left on the device{where}; free some space or choose another -o / TMPDIR")
            return 2
        return _internal_error(e)
    except Exception as e:  # noqa: BLE001 - the promise is one line, not a traceback
        return _internal_error(e)
    return rc if isinstance(rc, int) else 0


def _internal_error(e: BaseException) -> int:
    """An exception no check anticipated: one line, the traceback behind EDGEPACK_DEBUG=1, exit 1."""
    import traceback

    from edgepack.cli.term import clean, error

    if os.environ.get("EDGEPACK_DEBUG"):
        traceback.print_exception(e)
    error(f"internal error: {type(e).__name__}: {clean(e)}; this is a bug in edgepack: rerun with "
          "EDGEPACK_DEBUG=1 and report the traceback")
    return 1
