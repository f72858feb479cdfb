"""Per-post signals: computing, storing, enqueueing, and the ranking worker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.utils import timezone
from sklearn.pipeline import Pipeline

from feed.models import Post
from ranking.artefacts import (
    FORMAT_SKOPS,
    FitResult,
    sklearn_dump,
    training_data_sha256,
)
from ranking.consumers import RankingWorkerConsumer
from ranking.db_triggers import artefact_trigger_remove
from ranking.incivility import incivility_corpus_load, incivility_fit, incivility_refit
from ranking.models import ModelArtefact, PostSignals
from ranking.selectors import model_cache_clear, post_signals_for
from ranking.services import (
    MESSAGE_CHUNK,
    model_activate,
    model_artefact_create,
    post_signals_compute,
    post_signals_enqueue,
    post_signals_ensure,
    post_signals_store,
)

BODIES = [
    "You are a worthless idiot and a liar.",
    "Thank you for the helpful summary of the meeting.",
    "The community centre reopens next week.",
    "Shut up, you pathetic moron.",
]


def _result(model: Pipeline, tag: str) -> FitResult:
    return FitResult(
        blob=sklearn_dump(model),
        format=FORMAT_SKOPS,
        training_data_sha256=training_data_sha256([tag]),
    )


@pytest.fixture(scope="module")
def base_result() -> FitResult:
    texts, labels = incivility_corpus_load()
    return _result(incivility_fit(texts=texts, labels=labels), "base")


@pytest.fixture(scope="module")
def refit_result() -> FitResult:
    texts, labels = incivility_corpus_load()
    model = incivility_refit(
        base_texts=texts,
        base_labels=labels,
        upheld_texts=["The community centre reopens next week."],
        dismissed_texts=[],
    )
    return _result(model, "refit")


@pytest.fixture(autouse=True)
def empty_model_cache() -> Iterator[None]:
    model_cache_clear()
    yield
    model_cache_clear()


@pytest.fixture
def empty_ranking_channel() -> None:
    """Drop messages a previous run left in the layer (Redis keeps them a minute)."""
    async_to_sync(get_channel_layer().flush)()


@pytest.fixture
def tampering_allowed(db: Any) -> None:
    """Lift the immutability trigger to simulate someone who can drop it.

    The DROP runs inside the test's transaction, so it is rolled back with it.
    """
    artefact_trigger_remove(connection)


def _receive(count: int) -> list[dict[str, Any]]:
    """Receive messages from the ranking channel in one event loop.

    channels_redis acknowledges a received message from a background task of
    the loop that received it; one loop per message would redeliver them.
    """
    layer = get_channel_layer()

    async def receive_all() -> list[dict[str, Any]]:
        received = [
            await asyncio.wait_for(layer.receive("ranking"), timeout=5)
            for _ in range(count)
        ]
        await asyncio.sleep(0.05)  # let the acknowledgements run
        return received

    return async_to_sync(receive_all)()


@pytest.fixture
def activate(db: Any) -> Callable[[FitResult], ModelArtefact]:
    def _activate(result: FitResult) -> ModelArtefact:
        artefact = model_artefact_create(name="incivility", result=result)
        return model_activate(artefact=artefact, actor="system:test")

    return _activate


@pytest.fixture
def posts(make_user: Any) -> list[Post]:
    author = make_user()
    return [
        Post.objects.create(author=author, body=body, created_at=timezone.now())
        for body in BODIES
    ]


def _ids(posts: list[Post]) -> list[int]:
    return [post.id for post in posts]


def test_compute_fills_every_post_once(
    activate: Callable[[FitResult], ModelArtefact],
    base_result: FitResult,
    posts: list[Post],
) -> None:
    artefact = activate(base_result)
    assert post_signals_compute(post_ids=_ids(posts)) == len(posts)
    stored = post_signals_for(post_ids=_ids(posts))
    assert set(stored) == set(_ids(posts))
    for row in stored.values():
        assert row.model_versions == {"incivility": artefact.version}
        assert 0.0 <= row.values["incivility"] <= 1.0
    assert stored[posts[0].id].values["incivility"] > 0.85
    assert stored[posts[1].id].values["incivility"] < 0.85
    computed_at = {row.post_id: row.computed_at for row in stored.values()}
    # Idempotent: nothing is scored twice.
    assert post_signals_compute(post_ids=_ids(posts)) == 0
    again = post_signals_for(post_ids=_ids(posts))
    assert {row.post_id: row.computed_at for row in again.values()} == computed_at


def test_compute_after_a_partial_run_finishes_only_the_rest(
    activate: Callable[[FitResult], ModelArtefact],
    base_result: FitResult,
    posts: list[Post],
) -> None:
    activate(base_result)
    # A crash after the first chunk leaves some posts scored, some not.
    assert post_signals_compute(post_ids=_ids(posts[:2])) == 2
    assert post_signals_compute(post_ids=_ids(posts)) == 2
    assert PostSignals.objects.filter(incivility__isnull=False).count() == len(posts)


def test_a_new_model_version_rescores_posts(
    activate: Callable[[FitResult], ModelArtefact],
    base_result: FitResult,
    refit_result: FitResult,
    posts: list[Post],
) -> None:
    activate(base_result)
    post_signals_compute(post_ids=_ids(posts))
    before = post_signals_for(post_ids=_ids(posts))[posts[2].id].values["incivility"]
    v2 = activate(refit_result)
    assert post_signals_compute(post_ids=_ids(posts)) == len(posts)
    row = PostSignals.objects.get(post=posts[2])
    assert row.incivility_version == v2.version == 2
    assert row.incivility is not None and row.incivility > before


def test_compute_without_an_active_model_writes_nothing(posts: list[Post]) -> None:
    assert post_signals_compute(post_ids=_ids(posts)) == 0
    assert not PostSignals.objects.exists()


def test_compute_skips_posts_that_do_not_exist(
    activate: Callable[[FitResult], ModelArtefact],
    base_result: FitResult,
    posts: list[Post],
) -> None:
    activate(base_result)
    assert post_signals_compute(post_ids=[posts[0].id, 10**9]) == 1


def test_storing_bridging_keeps_incivility(
    activate: Callable[[FitResult], ModelArtefact],
    base_result: FitResult,
    posts: list[Post],
) -> None:
    activate(base_result)
    post_signals_compute(post_ids=_ids(posts))
    written = post_signals_store(
        name="bridging", version=4, values={posts[0].id: 0.3, 10**9: 0.1}
    )
    assert written == 1
    row = PostSignals.objects.get(post=posts[0])
    assert row.bridging == pytest.approx(0.3)
    assert row.incivility is not None
    assert row.model_versions == {"incivility": 1, "bridging": 4}


def test_enqueue_inline_computes_after_commit(
    activate: Callable[[FitResult], ModelArtefact],
    base_result: FitResult,
    posts: list[Post],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.RUN_BACKGROUND_INLINE = True
    activate(base_result)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post_signals_enqueue(post_ids=_ids(posts))
    # Nothing happens before the commit.
    assert not PostSignals.objects.exists()
    for callback in callbacks:
        callback()
    assert PostSignals.objects.filter(incivility__isnull=False).count() == len(posts)


def test_enqueue_sends_to_the_ranking_channel_when_not_inline(
    empty_ranking_channel: None,
    activate: Callable[[FitResult], ModelArtefact],
    base_result: FitResult,
    posts: list[Post],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.RUN_BACKGROUND_INLINE = False
    activate(base_result)
    with django_capture_on_commit_callbacks(execute=True):
        post_signals_enqueue(post_ids=[posts[1].id, posts[0].id, posts[0].id])
    [message] = _receive(1)
    assert message == {"type": "post.signals", "post_ids": sorted(_ids(posts[:2]))}
    assert not PostSignals.objects.exists()


def test_enqueue_splits_large_batches_into_bounded_messages(
    empty_ranking_channel: None,
    posts: list[Post],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.RUN_BACKGROUND_INLINE = False
    ids = list(range(1, MESSAGE_CHUNK * 2 + 2))
    with django_capture_on_commit_callbacks(execute=True):
        post_signals_enqueue(post_ids=ids)
    sizes = sorted(len(message["post_ids"]) for message in _receive(3))
    assert sizes == [1, MESSAGE_CHUNK, MESSAGE_CHUNK]


def test_ensure_computes_missing_and_survives_a_broken_model(
    activate: Callable[[FitResult], ModelArtefact],
    base_result: FitResult,
    posts: list[Post],
    caplog: pytest.LogCaptureFixture,
    tampering_allowed: None,
) -> None:
    artefact = activate(base_result)
    stored = post_signals_ensure(post_ids=_ids(posts[:2]))
    assert set(stored) == set(_ids(posts[:2]))
    model_cache_clear()
    ModelArtefact.objects.filter(pk=artefact.pk).update(blob_sha256="0" * 64)
    # The missing posts stay missing, the stored ones are served, nothing raises.
    stored = post_signals_ensure(post_ids=_ids(posts))
    assert set(stored) == set(_ids(posts[:2]))
    assert "serving without them" in caplog.text


def test_enqueue_failure_is_logged_not_raised(
    activate: Callable[[FitResult], ModelArtefact],
    posts: list[Post],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
    tampering_allowed: None,
) -> None:
    settings.RUN_BACKGROUND_INLINE = True
    # A stored blob that no longer matches its hash makes computing fail.
    texts, labels = incivility_corpus_load()
    artefact = activate(_result(incivility_fit(texts=texts, labels=labels), "x"))
    ModelArtefact.objects.filter(pk=artefact.pk).update(blob_sha256="0" * 64)
    with django_capture_on_commit_callbacks(execute=True):
        post_signals_enqueue(post_ids=_ids(posts))
    assert "SHA-256" in caplog.text
    assert not PostSignals.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_worker_consumer_handles_a_message(
    base_result: FitResult, make_user: Any
) -> None:
    model_activate(
        artefact=model_artefact_create(name="incivility", result=base_result),
        actor="system:test",
    )
    author = make_user()
    ids = [
        Post.objects.create(author=author, body=body, created_at=timezone.now()).id
        for body in BODIES
    ]

    @database_sync_to_async
    def scored() -> int:
        return PostSignals.objects.filter(
            post_id__in=ids, incivility__isnull=False
        ).count()

    async def drive() -> int:
        communicator = ApplicationCommunicator(
            RankingWorkerConsumer.as_asgi(), {"type": "channel", "channel": "ranking"}
        )
        # A malformed message is logged and skipped; the worker keeps going.
        await communicator.send_input({"type": "post.signals", "post_ids": "1,2"})
        await communicator.send_input({"type": "post.signals", "post_ids": ids})
        count = 0
        for _ in range(200):
            count = await scored()
            if count == len(ids):
                break
            await asyncio.sleep(0.05)
        communicator.stop(exceptions=True)
        return count

    assert async_to_sync(drive)() == len(ids)
