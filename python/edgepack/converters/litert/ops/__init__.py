"""One lowering per ONNX op (or per family sharing one lowering through a table), one file each. Every module
here is imported by lower.load_lowerings() and registers itself with @lowers(...)."""
