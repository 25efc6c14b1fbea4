"""Data: load (CSV, image folders) with validation, fingerprint, split, describe."""

from signlens.data.dataset import Dataset
from signlens.data.load import load

__all__ = ["Dataset", "load"]
