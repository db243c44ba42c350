"""Version of the pymva package."""

__version__ = "0.1.0"
