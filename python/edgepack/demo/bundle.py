"""The demo's last step: pack the digits model into a bundle and classify one held-out image through
edgepack.load, as a device would."""

from __future__ import annotations

from pathlib import Path

from edgepack.demo import DemoData


def pack_and_classify(data: DemoData, engines: list[str], out_dir: Path) -> str:
    from edgepack.pack import PackOptions, pack
    from edgepack.runtime.session import load

    opts = PackOptions(task="classify", labels=data.spec["labels"], mean=data.spec["mean"], std=data.spec["std"],
                       name="digits")
    res = pack(data.model, out_dir / "digits.edgepack", opts, to=engines, precision="fp32", bench_runs=10,
               force=True)
    with load(res.path) as sess:
        result = sess.run(data.images[0])
        how = f"{sess.engine} {sess.precision}"
    return (f"bundle {res.path} ({res.path.stat().st_size / 1e3:.0f} KB): edgepack.load chose {how}; held-out "
            f"image 0 (true label {data.labels[0]}) -> {result}")
