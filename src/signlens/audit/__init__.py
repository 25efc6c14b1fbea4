"""Audit: duplicates, label issues, slices, robustness, and the report that joins them."""
