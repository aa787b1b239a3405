"""edgebench: export image classifiers to edge formats, validate them, benchmark them."""

__version__ = "0.1.0"
