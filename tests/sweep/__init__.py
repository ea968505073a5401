"""Sweeps through the real command: the callback, progress, seed rules, sweepers, faults."""
