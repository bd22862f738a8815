"""The web workers freeze what they hold once they have served their first requests."""

from __future__ import annotations

import gc
from types import SimpleNamespace

from lodestar.web import gunicorn_conf


def test_it_freezes_the_workers_objects_once_after_its_first_requests() -> None:
    worker = SimpleNamespace()
    try:
        for _ in range(gunicorn_conf.FREEZE_AFTER - 1):
            gunicorn_conf.post_request(worker, None, None, None)
        assert gc.get_freeze_count() == 0
        gunicorn_conf.post_request(worker, None, None, None)
        frozen = gc.get_freeze_count()
        assert frozen > 0
        gc.unfreeze()
        gunicorn_conf.post_request(worker, None, None, None)
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
