"""Verification: compare artifacts with the ONNX Runtime reference."""
