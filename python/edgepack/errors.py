"""User-facing errors. Every message names the problem and the fix; the CLI prints it on one line, exit 2."""

from __future__ import annotations


class Error(Exception):
    """Base class for mistakes a user can fix (bad path, bad model, missing engine...)."""


class InputError(Error):
    """A file or argument given by the user is missing, unreadable or malformed."""


class ModelError(Error):
    """The model itself is not usable: not ONNX, truncated, invalid, dynamic dims left unset."""


class UnsupportedOpError(Error):
    """A converter or engine cannot express a node. Carries the node name, op type and engine."""

    def __init__(self, engine: str, op_type: str, node: str, detail: str = "", target: str = "") -> None:
        self.engine, self.op_type, self.node = engine, op_type, node
        msg = f"{engine}: cannot convert node '{node}' (op {op_type})"
        if detail:
            msg += f": {detail}"
        msg += f"; remove or replace that op, or convert without --to {target or engine}"
        super().__init__(msg)


class ConversionError(Error):
    """A converter failed for a reason other than one identified node."""


class EngineUnavailableError(Error):
    """The engine's Python package is not installed or cannot be imported here."""


class EngineCrashError(Error):
    """An engine or converter process died (segfault, abort) on this model."""


class EngineRunError(Error):
    """An engine loaded the artifact but failed to run it. `details` keeps the worker's traceback
    (printed by the CLI when EDGEPACK_DEBUG=1)."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class OutputError(Error):
    """The output location cannot be written."""


class BundleError(Error):
    """A bundle cannot be used: not a bundle, manifest invalid or from a newer edgepack, unsafe paths,
    missing or corrupt artifact files. The message names the file and what to do."""
