"""Evaluation: evaluate (the entry point) and its figures."""
