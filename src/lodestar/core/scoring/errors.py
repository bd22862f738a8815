"""Errors of the scoring engine; all derive from :class:`lodestar.core.errors.LodestarError`."""

from __future__ import annotations

from lodestar.core.errors import LodestarError

__all__ = ["InvalidScoringInput", "InvalidWeights", "NaiveDatetime", "ScoringError"]


class ScoringError(LodestarError):
    """Base class of every error raised by :mod:`lodestar.core.scoring`."""


class InvalidWeights(ScoringError):
    """Weights are negative, not finite, or all zero."""


class NaiveDatetime(ScoringError):
    """A datetime without a time zone reached the engine (every time must be aware)."""


class InvalidScoringInput(ScoringError):
    """Input that cannot be scored: negative durations, mismatched column lengths, bad config."""
