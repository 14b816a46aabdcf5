"""Deployment of a bundle to boards (toolchain side): `edgepack wheel` (the model as a py3-none-any wheel,
wheel.py) and `edgepack wheelhouse` (an offline install set for one board, wheelhouse.py). targets.py holds
the per-board engine facts, download.py the pip calls, runtime_wheel.py where the runtime wheel comes from."""
