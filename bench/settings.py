"""Benchmark settings: the project's settings plus the bare baseline app and its URLs.

Everything else (database, broker, cache, rate limits) still comes from the environment,
which bench.harness sets (DATABASE_URL=…/jxt_bench, Redis db 14, DEBUG off).
"""

from __future__ import annotations

from config import settings as _base

# Copy the project's settings by name (no star import): the benchmark must run the same stack.
globals().update({name: value for name, value in vars(_base).items() if name.isupper()})

INSTALLED_APPS = [*_base.INSTALLED_APPS, "bench.baseline"]
ROOT_URLCONF = "bench.urls"
