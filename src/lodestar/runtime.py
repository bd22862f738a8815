"""Process-level helpers for long, allocation-heavy computations."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["cycle_collection_paused"]


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Run the block without the cyclic garbage collector, then collect once.

    A sweep over tens of thousands of deals allocates hundreds of thousands of short-lived
    tuples and records; each 700 allocations start a collection, and the ones that reach the
    oldest generation walk every object the process holds (about a sixth of a full recompute
    at 50,000 deals). Reference counting still frees what the block drops; the cycles it
    leaves are collected when it ends.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(1)
