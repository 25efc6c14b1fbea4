"""signlens: recognize ASL fingerspelled letters (A–Y, no J/Z) from images."""

__version__ = "0.1.0"
