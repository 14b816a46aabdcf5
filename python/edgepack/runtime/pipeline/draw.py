"""`edgepack run --save`: draw a result onto its source image (Pillow) and write a PNG atomically."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from edgepack.errors import InputError, OutputError
from edgepack.runtime._fsutil import atomic_write_bytes
from edgepack.runtime.pipeline.pre import load_image
from edgepack.runtime.pipeline.results import Classification, Detections, Frame, Mask

MIN_SIDE = 256  # tiny inputs (32x32 digits) are upscaled so that the text is readable


def _palette(n: int) -> np.ndarray:
    """Distinct colours per class id (golden-ratio hues); class 0 (background) is black."""
    import colorsys

    cols = [(0, 0, 0)] + [tuple(int(255 * c) for c in colorsys.hsv_to_rgb((i * 0.618034) % 1, 0.75, 1.0))
                          for i in range(1, n)]
    return np.array(cols, dtype=np.uint8)


def source_rgb(x: Any, color: str = "RGB") -> np.ndarray:
    if isinstance(x, (str, Path)):
        return load_image(x)
    if isinstance(x, Frame):
        from edgepack.runtime.kernels import preprocess

        rgb, _ = preprocess(x.buffer(), format=x.format.lower(), width=x.width, height=x.height,
                            out_size=(x.width, x.height), layout="hwc", dtype="uint8")
        return rgb
    a = np.asarray(x)
    if a.ndim == 2:
        return np.repeat(a[:, :, None], 3, axis=2)
    return a[:, :, 2::-1] if color.upper().startswith("BGR") else a[:, :, :3]


def draw(image: np.ndarray, result: Any) -> Any:
    from edgepack.runtime.pipeline.pre import pillow

    Image, _ = pillow()
    from PIL import ImageDraw

    im = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8))
    scale = max(1.0, MIN_SIDE / min(im.size))
    if isinstance(result, Mask):
        m = result.mask
        if m.shape != (im.height, im.width):
            m = np.asarray(Image.fromarray(m).resize(im.size, Image.NEAREST))
        over = _palette(max(int(m.max()) + 1, 2))[m]
        im = Image.fromarray((np.asarray(im) * 0.5 + over * 0.5).astype(np.uint8))
    if scale > 1:
        im = im.resize((round(im.width * scale), round(im.height * scale)), Image.NEAREST)
    d = ImageDraw.Draw(im)
    if isinstance(result, Classification):
        text = "  ".join(f"{lab} {s:.2f}" for lab, s in zip(result.labels[:3], result.scores[:3]))
        d.rectangle([0, 0, im.width, 14], fill=(0, 0, 0))
        d.text((3, 2), text, fill=(255, 255, 0))
    elif isinstance(result, Detections):
        pal = _palette(max(int(result.class_ids.max()) + 2 if len(result) else 2, 2))
        for (lab, s, box), cid in zip(result, result.class_ids):
            col = tuple(int(c) for c in pal[int(cid) + 1])
            b = [v * scale for v in box]
            d.rectangle(b, outline=col, width=2)
            d.text((b[0] + 3, max(0, b[1] - 12)), f"{lab} {s:.2f}", fill=col)
    elif isinstance(result, Mask):
        y = 2
        for name, px in sorted(result.classes().items(), key=lambda kv: -kv[1])[:6]:
            d.text((3, y), f"{name}: {px} px", fill=(255, 255, 255))
            y += 12
    else:
        raise InputError("--save draws classify/detect/segment results; a raw bundle has nothing to draw")
    return im


def save_drawing(x: Any, result: Any, dest: str | Path, color: str = "RGB") -> Path:
    dest = Path(dest)
    buf = io.BytesIO()
    draw(source_rgb(x, color), result).save(buf, format="PNG")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(dest, buf.getvalue())
    except OSError as e:
        raise OutputError(f"cannot write '{dest}' ({e.strerror}); choose a writable --save path") from e
    return dest
