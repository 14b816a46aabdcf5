"""Target: the ncnn .param reader (formats/ncnn/param.py) on arbitrary text."""

from __future__ import annotations

from expect import rejected_cleanly

from edgepack.formats.ncnn.param import parse_param


def one_input(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    with rejected_cleanly("ncnn param"):
        pf = parse_param(text, "fuzz.param")
        for ly in pf.layers:
            _ = (ly.type, ly.name, ly.bottoms, ly.tops, ly.params)
