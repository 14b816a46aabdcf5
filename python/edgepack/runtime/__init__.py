"""The device side of edgepack: what runs a bundle on a phone, a Pi or a PC.

Bundle reader and integrity, engine choice, Session, pipeline specs and results, engine adapters, the C++
kernels and on-device bench/verify. It depends on numpy and the engine it runs, and imports nothing from the
toolchain (converters, quantize, formats, verify against ONNX Runtime, pack): tests/test_runtime_split.py
keeps that boundary."""
