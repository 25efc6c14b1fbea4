"""Vision: photos and frames -> the 28×28 grid and hand landmarks (preprocess is the entry point)."""
