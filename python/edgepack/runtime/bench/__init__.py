"""Benchmarks: device descriptor, per-artifact measurement in an isolated process, reports."""
