"""SIMULATION — synthetic data: a synthetic society and ranker comparisons.

The same code serves the board's impact preview (``ranking.simulation.impact``).
"""
