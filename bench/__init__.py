"""Parley benchmarks: ``python -m bench.load`` (see bench/README.md)."""
