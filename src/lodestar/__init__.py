"""Lodestar — open-source sales navigation system."""

__version__ = "0.1.0"
