"""Benchmarks: figures beside bare baselines, never pass/fail on timing (see bench/README.md)."""
