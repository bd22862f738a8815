"""The domain engine: plain Python, no Django, no I/O, time passed in."""

from lodestar.core.errors import LodestarError

__all__ = ["LodestarError"]
