"""Benchmarks: run as modules (python -m benchmarks.NAME); they print figures, never assert speed."""
