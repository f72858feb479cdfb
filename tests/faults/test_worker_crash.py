"""The ranking worker is killed (SIGKILL) mid-work: the lost work is redone by a
fresh worker, idempotently; no post is left without signals.

Messages travel through a private redis-server (port 6391) that the test
starts; the worker is a forked `runworker ranking` equivalent.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import override_settings
from django.utils import timezone

from faults.infra import PrivateRedis
from tests.conftest import _use_test_database

PORT = 6391
URL = f"redis://127.0.0.1:{PORT}/0"
LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [URL], "prefix": "fault-worker"},
    }
}
POSTS = 6000
pytestmark = pytest.mark.skipif(
    not PrivateRedis.available(), reason="redis-server is not installed"
)


def _run_worker() -> None:
    """The body of `manage.py runworker ranking`, in a forked child."""
    from channels.layers import get_channel_layer
    from channels.worker import Worker
    from django.conf import settings
    from django.core.signals import setting_changed

    from charter_social.asgi import application

    _use_test_database()
    settings.CHANNEL_LAYERS = LAYERS
    setting_changed.send(
        sender=type(settings), setting="CHANNEL_LAYERS", value=LAYERS, enter=True
    )
    Worker(
        application=application, channels=["ranking"], channel_layer=get_channel_layer()
    ).run()


def _start_worker() -> Any:
    process = multiprocessing.get_context("fork").Process(target=_run_worker)
    process.start()
    return process


def _send_all(post_ids: list[int]) -> None:
    from channels.layers import get_channel_layer

    from ranking.services import MESSAGE_CHUNK

    layer = get_channel_layer()

    async def send() -> None:
        for start in range(0, len(post_ids), MESSAGE_CHUNK // 4):
            chunk = post_ids[start : start + MESSAGE_CHUNK // 4]
            await layer.send("ranking", {"type": "post.signals", "post_ids": chunk})

    async_to_sync(send)()


def _wait_for(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_killed_worker_work_is_redone_idempotently(
    transactional_db: Any, make_user: Any
) -> None:
    from django.core.management import call_command

    from charter.services import charter_genesis
    from feed.models import Post
    from ranking.artefacts import (
        FORMAT_SKOPS,
        FitResult,
        sklearn_dump,
        training_data_sha256,
    )
    from ranking.incivility import incivility_corpus_load, incivility_fit
    from ranking.models import PostSignals
    from ranking.services import (
        model_activate,
        model_artefact_create,
        post_signals_compute,
    )

    charter_genesis()
    texts, labels = incivility_corpus_load()
    artefact = model_artefact_create(
        name="incivility",
        result=FitResult(
            blob=sklearn_dump(incivility_fit(texts=texts, labels=labels)),
            format=FORMAT_SKOPS,
            training_data_sha256=training_data_sha256(["fault"]),
        ),
    )
    model_activate(artefact=artefact, actor="test")
    author = make_user("author")
    now = timezone.now()
    Post.objects.bulk_create(
        Post(author=author, body=f"post number {n}, calm and kind", created_at=now)
        for n in range(POSTS)
    )
    post_ids = sorted(Post.objects.values_list("id", flat=True))

    def scored() -> int:
        return PostSignals.objects.filter(
            post_id__in=post_ids, incivility__isnull=False
        ).count()

    with PrivateRedis(PORT), override_settings(CHANNEL_LAYERS=LAYERS):
        _send_all(post_ids)
        worker = _start_worker()
        try:
            assert _wait_for(lambda: scored() > 0, timeout=60), "worker never started"
            os.kill(worker.pid, signal.SIGKILL)
            worker.join(timeout=10)
        finally:
            if worker.is_alive():
                os.kill(worker.pid, signal.SIGKILL)
        at_kill = scored()
        before = dict(
            PostSignals.objects.filter(post_id__in=post_ids).values_list(
                "post_id", "computed_at"
            )
        )
        print(f"FAULT worker: {at_kill} of {POSTS} posts scored at the kill")
        assert 0 < at_kill < POSTS, f"the kill was not mid-work ({at_kill} scored)"
        # Recovery: every post's work is sent again (as the enqueue after a
        # crash or the ranker's on-demand compute would) to a fresh worker.
        _send_all(post_ids)
        fresh = _start_worker()
        try:
            assert _wait_for(lambda: scored() == POSTS, timeout=120), scored()
        finally:
            os.kill(fresh.pid, signal.SIGTERM)
            fresh.join(timeout=10)
            if fresh.is_alive():
                os.kill(fresh.pid, signal.SIGKILL)

    # Idempotent: one row per post, nothing scored before the kill was redone,
    # and a further pass finds nothing left to do.
    assert PostSignals.objects.filter(post_id__in=post_ids).count() == POSTS
    after = dict(
        PostSignals.objects.filter(post_id__in=before).values_list(
            "post_id", "computed_at"
        )
    )
    assert after == before
    assert post_signals_compute(post_ids=post_ids) == 0
    call_command("verify_ledger")
