"""Hyperparameter sweeps on Ray Tune: spec, trial, driver, report (`signlens sweep`)."""
