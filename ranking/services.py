"""Writes of the ranking app: storing and activating models, computing post signals.

Model activation is recorded in the transparency log in the same transaction
as the switch itself, so a model can never reach the ranker unlogged and a
logged activation can never be rolled back silently.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accountability.services import ledger_append
from feed.models import Post
from ranking.artefacts import (
    FORMAT_NPZ,
    FORMAT_SKOPS,
    ArtefactRefused,
    FitResult,
    blob_load,
    sha256_hex,
)
from ranking.incivility import incivility_scores
from ranking.models import ModelArtefact, PostSignals
from ranking.selectors import (
    model_active_loaded,
    post_ids_missing_incivility,
    post_signals_for,
)

logger = logging.getLogger(__name__)

# The channel the ranking worker listens on (`manage.py runworker ranking`).
RANKING_CHANNEL = "ranking"
# Posts scored per database round trip; bounds memory and lock time per chunk.
SIGNALS_CHUNK = 500
# Posts named per worker message, so one message is one bounded unit of work
# (a bulk import of 100k posts becomes many messages several workers can share).
MESSAGE_CHUNK = 1000

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# Batch-fitted signals that post_signals_store may write, with their columns.
_STORED_SIGNALS = {
    "incivility": ("incivility", "incivility_version"),
    "bridging": ("bridging", "bridging_version"),
    "consensus": ("consensus", "consensus_version"),
}


def model_artefact_create(*, name: str, result: FitResult) -> ModelArtefact:
    """Store a fitted model as the next version of ``name`` (not yet active).

    The blob must deserialise under the trusted-type rules before it is
    stored, so nothing is kept that the ranker could not load. Artefacts are
    immutable: no service changes a stored blob, parameters or metrics, and the
    database refuses it too (ranking/db_triggers.py); a changed model is a new
    version.
    """
    errors: dict[str, str] = {}
    if not _NAME_RE.match(name or ""):
        errors["name"] = (
            "Name the model in lower case letters, digits and underscores "
            "(at most 40 characters), e.g. 'incivility'."
        )
    if result.format not in (FORMAT_SKOPS, FORMAT_NPZ):
        errors["format"] = (
            f"Use format '{FORMAT_SKOPS}' or '{FORMAT_NPZ}', not '{result.format}'."
        )
    if not _SHA256_RE.match(result.training_data_sha256 or ""):
        errors["training_data_sha256"] = (
            "Give the training-data hash as 64 lower-case hex digits."
        )
    if not result.blob:
        errors["blob"] = "The model blob is empty; fit the model before storing it."
    if errors:
        raise ValidationError(errors)
    try:
        blob_load(result.blob, format=result.format)
    except ArtefactRefused as exc:
        raise ValidationError({"blob": str(exc)}) from exc
    try:
        with transaction.atomic():
            latest = ModelArtefact.objects.filter(name=name).aggregate(
                v=Max("version")
            )["v"]
            return ModelArtefact.objects.create(
                name=name,
                version=(latest or 0) + 1,
                format=result.format,
                training_data_sha256=result.training_data_sha256,
                parameters=result.parameters,
                metrics=result.metrics,
                blob=result.blob,
                blob_sha256=sha256_hex(result.blob),
            )
    except IntegrityError as exc:
        # Two fits of the same name raced for the same version number.
        raise ValidationError(
            {
                "version": (
                    f"Another '{name}' model was stored at the same moment; try again."
                )
            }
        ) from exc


def model_activate(*, artefact: ModelArtefact, actor: str) -> ModelArtefact:
    """Make ``artefact`` the version the ranker uses, and log it in the ledger.

    The switch and the ledger entry ("model.activated", with the model's and
    its training data's hashes and its metrics) commit together or not at all.
    Activating the already-active version changes nothing and logs nothing.
    Refuses an artefact whose stored blob no longer matches its hash.
    """
    with transaction.atomic():
        # Locking every version of the name serialises concurrent activations.
        versions = list(
            ModelArtefact.objects.select_for_update()
            .filter(name=artefact.name)
            .order_by("version")
            .defer("blob")
        )
        current = next((v for v in versions if v.pk == artefact.pk), None)
        if current is None:
            raise ValidationError({"artefact": "That model artefact no longer exists."})
        if current.is_active:
            return current
        blob = bytes(
            ModelArtefact.objects.filter(pk=current.pk)
            .values_list("blob", flat=True)
            .get()
        )
        if sha256_hex(blob) != current.blob_sha256:
            raise ValidationError(
                {
                    "artefact": (
                        f"{current} was altered after it was stored (its blob no "
                        "longer matches its hash); fit and store a new version instead."
                    )
                }
            )
        now = timezone.now()
        ModelArtefact.objects.filter(name=current.name, is_active=True).update(
            is_active=False
        )
        ModelArtefact.objects.filter(pk=current.pk).update(
            is_active=True, activated_at=now, activated_by=actor
        )
        ledger_append(
            kind="model.activated",
            actor=actor,
            subject=f"model:{current.name}:v{current.version}",
            payload={
                "name": current.name,
                "version": current.version,
                "blob_sha256": current.blob_sha256,
                "training_data_sha256": current.training_data_sha256,
                "metrics": current.metrics,
            },
        )
        current.is_active = True
        current.activated_at = now
        current.activated_by = actor
        return current


def post_signals_compute(*, post_ids: Iterable[int]) -> int:
    """Compute the incivility signal for posts that lack it from the active model.

    Posts already scored by the active version are skipped, so running twice,
    or again after a crash part-way, scores nothing twice; each chunk commits
    on its own. Returns how many posts were scored (0 when no incivility model
    is active yet: the ranker then treats the signal as missing).
    """
    loaded = model_active_loaded(name="incivility")
    if loaded is None:
        logger.warning("no active incivility model; run `manage.py fit_models`")
        return 0
    artefact, model = loaded
    pending = post_ids_missing_incivility(post_ids=post_ids, version=artefact.version)
    scored = 0
    for start in range(0, len(pending), SIGNALS_CHUNK):
        chunk = pending[start : start + SIGNALS_CHUNK]
        # Scored before any lock is taken: the CPU work must not hold up likes
        # and replies that update these posts' counters. Post bodies never change.
        bodies = dict(Post.objects.filter(id__in=chunk).values_list("id", "body"))
        ids = sorted(bodies)
        scores = dict(
            zip(ids, incivility_scores(model, [bodies[i] for i in ids]), strict=True)
        )
        with transaction.atomic():
            # Locking the posts for the moment of the upsert keeps a concurrent
            # delete from failing the foreign key; deleted posts drop out here.
            still_there = list(
                Post.objects.select_for_update()
                .filter(id__in=ids)
                .order_by("id")
                .values_list("id", flat=True)
            )
            now = timezone.now()
            PostSignals.objects.bulk_create(
                [
                    PostSignals(
                        post_id=post_id,
                        incivility=min(1.0, max(0.0, float(scores[post_id]))),
                        incivility_version=artefact.version,
                        computed_at=now,
                    )
                    for post_id in still_there
                ],
                update_conflicts=True,
                unique_fields=["post"],
                update_fields=["incivility", "incivility_version", "computed_at"],
            )
        scored += len(still_there)
    return scored


def post_signals_store(*, name: str, version: int, values: Mapping[int, float]) -> int:
    """Store batch-fitted values of one signal (e.g. bridging scores) for posts.

    Only that signal's columns are written, so other signals survive. Posts
    that no longer exist are skipped. Returns how many posts were written.
    """
    if name not in _STORED_SIGNALS:
        raise ValidationError(
            {
                "name": (
                    f"'{name}' is not a stored signal; "
                    f"use one of {sorted(_STORED_SIGNALS)}."
                )
            }
        )
    value_col, version_col = _STORED_SIGNALS[name]
    written = 0
    items = sorted(values.items())
    for start in range(0, len(items), SIGNALS_CHUNK):
        chunk = dict(items[start : start + SIGNALS_CHUNK])
        with transaction.atomic():
            ids = list(
                Post.objects.select_for_update()
                .filter(id__in=list(chunk))
                .order_by("id")
                .values_list("id", flat=True)
            )
            now = timezone.now()
            rows = []
            for post_id in ids:
                row: dict[str, Any] = {
                    value_col: float(chunk[post_id]),
                    version_col: version,
                    "computed_at": now,
                }
                rows.append(PostSignals(post_id=post_id, **row))
            PostSignals.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["post"],
                update_fields=[value_col, version_col, "computed_at"],
            )
        written += len(ids)
    return written


def post_signals_enqueue(*, post_ids: Iterable[int]) -> None:
    """Have the signals of these posts computed once the current transaction commits.

    With a cross-process channel layer (RUN_BACKGROUND_INLINE off) a message
    goes to the ranking worker; otherwise the signals are computed in-process.
    A failure is logged and never reaches the person who posted: a post without
    signals is recomputed on demand later.
    """
    ids = sorted({int(post_id) for post_id in post_ids})
    if not ids:
        return

    def run() -> None:
        if settings.RUN_BACKGROUND_INLINE:
            post_signals_compute(post_ids=ids)
        else:
            layer = get_channel_layer()
            if layer is None:
                post_signals_compute(post_ids=ids)
                return
            for start in range(0, len(ids), MESSAGE_CHUNK):
                async_to_sync(layer.send)(
                    RANKING_CHANNEL,
                    {
                        "type": "post.signals",
                        "post_ids": ids[start : start + MESSAGE_CHUNK],
                    },
                )

    # robust: an exception here is logged, not raised into the committed request.
    transaction.on_commit(run, robust=True)


def post_signals_ensure(*, post_ids: Iterable[int]) -> dict[int, PostSignals]:
    """Stored signals of these posts, computing any missing ones first.

    For the ranker's request path: a failure to compute is logged and the posts
    are returned with whatever is stored (possibly nothing), so a feed is never
    broken by a missing or unloadable model.
    """
    ids = list(post_ids)
    try:
        post_signals_compute(post_ids=ids)
    except Exception:
        logger.exception("computing missing post signals failed; serving without them")
    return post_signals_for(post_ids=ids)
