"""Tracking: the MLflow store, logged runs (training, fine-tuning, evaluation), the offline queue, the registry and reproduce."""
