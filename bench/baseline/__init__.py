"""The bare Django REST framework and Celery counterparts the benchmarks compare against."""
