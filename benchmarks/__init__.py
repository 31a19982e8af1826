"""Benchmark suite: ``python -m benchmarks.run`` regenerates every figure in RESULTS.md."""
