"""The glibc a wheel really needs: the highest GLIBC_2.N symbol version its shared objects require (the ELF
.gnu.version_r section, what the dynamic loader checks), whatever its manylinux tag claims. A tag is chosen by
whoever built the wheel; ai-edge-litert 2.x says manylinux_2_27 and needs GLIBC_2.34. The wheelhouse checks
every downloaded wheel against the board's glibc with this, so a lying tag fails here, not at import on the board."""

from __future__ import annotations

import re
import struct
import zipfile
from pathlib import Path

_SHT_GNU_VERNEED = 0x6FFFFFFE
_GLIBC = re.compile(rb"GLIBC_2\.(\d+)")
_SO = re.compile(r"\.so(\.\d+)*$")


def elf_version_needs(data: bytes) -> set[str]:
    """Symbol versions (GLIBC_2.34, GLIBCXX_3.4.30, ...) an ELF shared object needs; empty if not ELF."""
    if len(data) < 0x40 or data[:4] != b"\x7fELF" or data[5] != 1:  # little-endian only, as every target
        return set()
    is64 = data[4] == 2
    if is64:
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    else:
        shoff, = struct.unpack_from("<I", data, 0x20)
        shentsize, shnum = struct.unpack_from("<HH", data, 0x2E)

    def section(i: int) -> tuple[int, int, int, int]:  # type, offset, size, link
        base = shoff + i * shentsize
        if is64:
            _, typ, _, _, off, size, link = struct.unpack_from("<IIQQQQI", data, base)
        else:
            _, typ, _, _, off, size, link = struct.unpack_from("<IIIIIII", data, base)
        return typ, off, size, link

    out: set[str] = set()
    try:
        for i in range(shnum):
            typ, off, size, link = section(i)
            if typ != _SHT_GNU_VERNEED:
                continue
            _, stroff, _, _ = section(link)
            need = off
            while True:  # Verneed: version, count, file, aux, next; Vernaux: hash, flags, other, name, next
                _, cnt, _, aux, nxt = struct.unpack_from("<HHIII", data, need)
                a = need + aux
                for _ in range(cnt):
                    _, _, _, name, anext = struct.unpack_from("<IHHII", data, a)
                    end = data.index(b"\0", stroff + name)
                    out.add(data[stroff + name:end].decode("ascii", "replace"))
                    if not anext:
                        break
                    a += anext
                if not nxt:
                    break
                need += nxt
    except (struct.error, ValueError, IndexError):
        return out  # a truncated or odd file: report what was readable
    return out


def wheel_glibc_need(wheel: Path) -> tuple[tuple[int, int] | None, str]:
    """(highest GLIBC_2.N any shared object in the wheel needs, that object's path) or (None, '')."""
    best: tuple[int, int] | None = None
    where = ""
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            if not _SO.search(info.filename):
                continue
            with zf.open(info) as f:
                if f.read(4) != b"\x7fELF":
                    continue
            for v in elf_version_needs(zf.read(info)):
                m = re.fullmatch(r"GLIBC_2\.(\d+)", v)
                if m and (best is None or (2, int(m.group(1))) > best):
                    best, where = (2, int(m.group(1))), info.filename
    return best, where
