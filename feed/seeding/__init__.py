"""Synthetic data for demos and benchmarks.

- ``text``: personas and the post-text generator (the Eastbridge transport debate);
- ``demo``: the small demo society behind ``manage.py seed_demo``;
- ``scale``: the numpy plan behind ``manage.py seed_scale``;
- ``bulk``: writing a scale plan with COPY (PostgreSQL) or bulk_create (SQLite).

Only management commands, tests and benchmarks import this package.
"""
