"""Benchmarks of a real ``custom-audiences serve`` over HTTP, as ratios to raw-engine baselines."""
