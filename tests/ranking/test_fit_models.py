"""`manage.py fit_models`: fit, store, activate through the ledger, apply to posts."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accountability.models import LedgerEntry
from feed.models import Post, Rating, Report
from ranking.artefacts import arrays_load
from ranking.models import ModelArtefact, PostSignals
from ranking.selectors import model_active, model_cache_clear, model_versions_active

pytestmark = pytest.mark.django_db

SLANG = "Honestly that take is pure gremlin energy, total gremlin."


@pytest.fixture(autouse=True)
def empty_model_cache() -> Iterator[None]:
    model_cache_clear()
    yield
    model_cache_clear()


def _signal(name: str) -> dict[int, float]:
    """Stored values of one signal, by post id (posts without it left out)."""
    return {
        row.post_id: row.values[name]
        for row in PostSignals.objects.all()
        if name in row.values
    }


def _fit(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("fit_models", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_fit_incivility_activates_it_and_scores_every_post(make_user: Any) -> None:
    author = make_user()
    posts = [
        Post.objects.create(author=author, body=body, created_at=timezone.now())
        for body in ["Shut up, you pathetic moron.", "Lovely walk by the river today."]
    ]
    out, err = _fit("incivility")
    artefact = model_active(name="incivility")
    assert artefact is not None and artefact.version == 1
    assert artefact.format == "skops"
    assert artefact.metrics["held_out"]["roc_auc"] >= 0.90
    assert artefact.parameters["C"] == 30.0
    assert "incivility: v1 activated" in out
    assert "signals written for 2 posts" in out
    assert "3/3" in err  # the progress line
    entry = LedgerEntry.objects.get(kind="model.activated")
    assert entry.payload["blob_sha256"] == artefact.blob_sha256
    assert entry.payload["training_data_sha256"] == artefact.training_data_sha256
    scores = _signal("incivility")
    assert scores[posts[0].id] > 0.85 > scores[posts[1].id]


def test_refitting_unchanged_data_stores_nothing(make_user: Any) -> None:
    _fit("incivility")
    out, _ = _fit("incivility")
    assert "unchanged, v1 stays active" in out
    assert ModelArtefact.objects.filter(name="incivility").count() == 1
    assert LedgerEntry.objects.filter(kind="model.activated").count() == 1
    _fit("incivility", "--force")
    assert model_versions_active() == {"incivility": 2}


def test_upheld_reports_refine_the_model_and_rescore_posts(make_user: Any) -> None:
    author, reporter, moderator_view = make_user(), make_user(), make_user()
    post = Post.objects.create(author=author, body=SLANG, created_at=timezone.now())
    other = Post.objects.create(
        author=author, body="Thanks, that was helpful.", created_at=timezone.now()
    )
    _fit("incivility")
    before = _signal("incivility")[post.id]
    Report.objects.create(
        reporter=reporter, post=post, reason=Report.Reason.INCIVILITY, status="upheld"
    )
    # Spam decisions say nothing about tone and must not change the training data.
    Report.objects.create(
        reporter=moderator_view, post=other, reason=Report.Reason.SPAM, status="upheld"
    )
    _fit("incivility")
    v2 = model_active(name="incivility")
    assert v2 is not None and v2.version == 2
    assert v2.metrics["n_moderation_labels"] == 1
    assert PostSignals.objects.get(post=post).incivility_version == 2
    assert _signal("incivility")[post.id] > before + 0.2


def test_no_activate_stores_without_logging() -> None:
    out, _ = _fit("incivility", "--no-activate")
    assert "v1 stored (not active)" in out
    assert model_active(name="incivility") is None
    assert ModelArtefact.objects.filter(name="incivility").exists()
    assert not LedgerEntry.objects.filter(kind="model.activated").exists()


def test_unknown_model_name_is_refused() -> None:
    with pytest.raises(CommandError, match="unknown model"):
        _fit("engagement")


def test_ratings_models_are_skipped_without_ratings() -> None:
    out, _ = _fit("bridging", "consensus")
    assert "bridging: no training data yet" in out
    assert "consensus: no training data yet" in out
    assert not ModelArtefact.objects.exists()


@pytest.fixture
def rated_posts(make_user: Any) -> list[Post]:
    """12 raters in two camps rate 12 posts: post 0 everyone likes, post 1 nobody."""
    author = make_user()
    raters = [make_user() for _ in range(12)]
    posts = [
        Post.objects.create(author=author, body=f"post {i}", created_at=timezone.now())
        for i in range(12)
    ]
    Rating.objects.bulk_create(
        Rating(
            user=rater,
            post=post,
            value=1 if (p == 0 or (p > 1 and (r + p) % 2 == 0)) else -1,
        )
        for r, rater in enumerate(raters)
        for p, post in enumerate(posts)
    )
    return posts


def test_bridging_fit_stores_npz_and_scores_rated_posts(
    rated_posts: list[Post],
) -> None:
    posts = rated_posts
    _fit("bridging")
    artefact = model_active(name="bridging")
    assert artefact is not None and artefact.format == "npz"
    arrays = arrays_load(bytes(ModelArtefact.objects.get(pk=artefact.pk).blob))
    assert sorted(arrays["item_ids"].tolist()) == sorted(p.id for p in posts)
    bridging = _signal("bridging")
    assert set(bridging) == {p.id for p in posts}
    assert bridging[posts[0].id] > bridging[posts[1].id]
    assert PostSignals.objects.get(post=posts[0]).model_versions == {"bridging": 1}
    assert (
        LedgerEntry.objects.get(kind="model.activated").subject == "model:bridging:v1"
    )


def test_consensus_fit_stores_groups_and_keeps_other_signals(
    rated_posts: list[Post],
) -> None:
    posts = rated_posts
    _fit("bridging")
    out, _ = _fit("consensus")
    assert "consensus: v1 activated" in out
    artefact = model_active(name="consensus")
    assert artefact is not None and artefact.format == "npz"
    arrays = arrays_load(bytes(ModelArtefact.objects.get(pk=artefact.pk).blob))
    assert arrays["rater_ids"].size == arrays["rater_group"].size == 12
    assert artefact.metrics["n_groups"] == int(arrays["n_groups"][0])
    consensus = _signal("consensus")
    assert set(consensus) == {p.id for p in posts}
    assert all(0.0 <= value <= 1.0 for value in consensus.values())
    assert consensus[posts[0].id] > consensus[posts[1].id]
    # Writing consensus left the bridging scores in place.
    assert set(_signal("bridging")) == {p.id for p in posts}
    both = {"bridging": 1, "consensus": 1}
    assert PostSignals.objects.get(post=posts[0]).model_versions == both
    assert model_versions_active() == {"bridging": 1, "consensus": 1}
