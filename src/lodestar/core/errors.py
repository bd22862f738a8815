"""The one root error of ``lodestar.core``.

Every exception the domain engine raises on purpose derives from :class:`LodestarError`, so
callers (services, API, CLI) can map all of them to one error body with one ``except``.
"""

from __future__ import annotations

__all__ = ["LodestarError"]


class LodestarError(Exception):
    """Base class of every error raised by ``lodestar.core``."""
