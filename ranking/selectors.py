"""Reads of the ranking app: active models, the model cache, stored signals."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from feed.models import Post, Report
from ranking.artefacts import ArtefactRefused, blob_load, sha256_hex
from ranking.models import ModelArtefact, PostSignals

# Deserialised models by (name, version, blob hash). The hash is part of the
# key so that two databases (tests, a restored backup) whose "incivility v3"
# differ can never share a cached model.
_MODEL_CACHE: dict[tuple[str, int, str], Any] = {}
_MODEL_CACHE_LOCK = threading.Lock()
# Older versions of a name stay cached briefly so a request that started before
# an activation can finish; beyond this many they are evicted.
_VERSIONS_KEPT_PER_NAME = 2


def model_active(*, name: str) -> ModelArtefact | None:
    """The active artefact for a model name (blob not fetched), or None."""
    return ModelArtefact.objects.filter(name=name, is_active=True).defer("blob").first()


def model_versions_active() -> dict[str, int]:
    """Active version per model name, e.g. {"incivility": 3, "bridging": 1}."""
    rows = ModelArtefact.objects.filter(is_active=True).values_list("name", "version")
    return {name: int(version) for name, version in rows}


def model_artefact_list(*, name: str | None = None) -> list[ModelArtefact]:
    """Stored artefacts (without blobs), newest version first per name."""
    queryset = ModelArtefact.objects.defer("blob")
    if name is not None:
        queryset = queryset.filter(name=name)
    return list(queryset.order_by("name", "-version"))


def model_load(*, artefact: ModelArtefact) -> Any:
    """The deserialised model of an artefact, from the in-process cache when possible.

    The blob is fetched and checked against its recorded SHA-256 before it is
    deserialised; a mismatch raises `ArtefactRefused` (the row was altered).
    """
    key = (artefact.name, int(artefact.version), artefact.blob_sha256)
    with _MODEL_CACHE_LOCK:
        if key in _MODEL_CACHE:
            return _MODEL_CACHE[key]
    blob = bytes(
        ModelArtefact.objects.filter(pk=artefact.pk)
        .values_list("blob", flat=True)
        .get()
    )
    if sha256_hex(blob) != artefact.blob_sha256:
        raise ArtefactRefused(
            f"{artefact.name} v{artefact.version}: stored blob does not match its "
            "recorded SHA-256; refusing to load it"
        )
    model = blob_load(blob, format=artefact.format)
    with _MODEL_CACHE_LOCK:
        _MODEL_CACHE[key] = model
        same_name = sorted(k for k in _MODEL_CACHE if k[0] == artefact.name)
        for stale in same_name[:-_VERSIONS_KEPT_PER_NAME]:
            if stale != key:
                del _MODEL_CACHE[stale]
    return model


def model_active_loaded(*, name: str) -> tuple[ModelArtefact, Any] | None:
    """The active artefact of a name with its deserialised model, or None."""
    artefact = model_active(name=name)
    if artefact is None:
        return None
    return artefact, model_load(artefact=artefact)


def artefacts_active() -> list[ModelArtefact]:
    """The active model artefacts (without blobs), by name."""
    return list(
        ModelArtefact.objects.filter(is_active=True).defer("blob").order_by("name")
    )


def models_warm() -> list[str]:
    """Load every active model into this process's cache; the names loaded.

    A web process calls it once at start (charter_social.asgi), in a thread
    of its own: deserialising the incivility model takes seconds on a small
    machine, which otherwise fell on the first requests that needed it and
    made every request queued behind them wait too. Failures (no database
    yet, a refused blob) are left to the request path, which reports them.
    """
    loaded = []
    for artefact in artefacts_active():
        model_load(artefact=artefact)
        loaded.append(artefact.name)
    return loaded


def model_cache_clear() -> None:
    """Forget every deserialised model (tests; after restoring a database)."""
    with _MODEL_CACHE_LOCK:
        _MODEL_CACHE.clear()


def post_signals_for(*, post_ids: Iterable[int]) -> dict[int, PostSignals]:
    """Stored signals of the given posts, by post id (posts without any are absent)."""
    return {
        row.post_id: row
        for row in PostSignals.objects.filter(post_id__in=list(post_ids))
    }


def post_ids_missing_incivility(*, post_ids: Iterable[int], version: int) -> list[int]:
    """Of the given existing posts, those with no incivility from model ``version``."""
    wanted = set(
        Post.objects.filter(id__in=list(post_ids)).values_list("id", flat=True)
    )
    current = set(
        PostSignals.objects.filter(
            post_id__in=wanted, incivility_version=version, incivility__isnull=False
        ).values_list("post_id", flat=True)
    )
    return sorted(wanted - current)


def incivility_moderation_texts() -> tuple[list[str], list[str]]:
    """Texts of reported posts that moderators decided: (upheld, dismissed).

    Only incivility and harassment reports teach the incivility model; a post
    upheld as spam or misinformation says nothing about its tone.
    """
    relevant = Report.objects.filter(
        reason__in=[Report.Reason.INCIVILITY, Report.Reason.HARASSMENT],
        status__in=[Report.Status.UPHELD, Report.Status.DISMISSED],
    ).order_by("id")
    upheld: list[str] = []
    dismissed: list[str] = []
    for status, body in relevant.values_list("status", "post__body"):
        (upheld if status == Report.Status.UPHELD else dismissed).append(body)
    return upheld, dismissed
