from __future__ import annotations

import gc
import weakref

import pytest

from lodestar.runtime import cycle_collection_paused


class _Node:
    def __init__(self) -> None:
        self.me = self


def test_the_cycle_collector_is_off_inside_and_on_again_after() -> None:
    with cycle_collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_is_back_after_an_error_inside() -> None:
    with pytest.raises(RuntimeError), cycle_collection_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_cycles_made_inside_are_collected_when_the_block_ends() -> None:
    with cycle_collection_paused():
        node = _Node()
        gone = weakref.ref(node)
        del node
        assert gone() is not None  # a cycle: reference counting alone cannot free it
    assert gone() is None


def test_a_collector_switched_off_by_the_caller_stays_off() -> None:
    gc.disable()
    try:
        with cycle_collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
