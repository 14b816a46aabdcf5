"""Bundles (.edgepack): manifest schema + validation, reader (integrity), writer (atomic zip), pack pipeline,
and the artifact choice of edgepack.load. The format is documented in docs/bundle.md."""
