"""Tracking: the MLflow store, the offline queue, the registry and reproduce."""
