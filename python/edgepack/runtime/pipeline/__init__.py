"""Pre/post-processing: specs (spec.py), typed results, and the runners that call the C++ kernels."""
