"""What a fuzz target accepts as a correct rejection: an edgepack error with a one-line message."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import edgepack


@contextlib.contextmanager
def rejected_cleanly(what: str) -> Iterator[None]:
    try:
        yield
    except edgepack.Error as e:
        msg = str(e)
        if "\n" in msg or not msg.strip():
            raise AssertionError(f"{what}: an edgepack error that is not one line: {msg!r}") from e
