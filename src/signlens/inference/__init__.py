"""Inference: the Predictor (the one prediction path), batch, the queue worker, export."""
