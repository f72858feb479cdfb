"""Model artefacts: safe serialisation, versions, activation via the ledger, cache."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import skops.io as sio
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from accountability.models import LedgerEntry
from ranking.artefacts import (
    FORMAT_NPZ,
    FORMAT_SKOPS,
    SKOPS_TRUSTED_TYPES,
    ArtefactRefused,
    FitResult,
    arrays_dump,
    arrays_load,
    sha256_hex,
    sklearn_dump,
    sklearn_load,
    training_data_sha256,
)
from ranking.db_triggers import artefact_trigger_remove
from ranking.incivility import incivility_corpus_load, incivility_fit, incivility_scores
from ranking.models import ModelArtefact
from ranking.selectors import (
    model_active,
    model_cache_clear,
    model_load,
    model_versions_active,
)
from ranking.services import model_activate, model_artefact_create

PROBES = [
    "You are a worthless idiot and a liar.",
    "Thank you for the helpful summary of the meeting.",
    "Typical gremlin nonsense.",
    "",
]


@pytest.fixture(scope="module")
def fitted() -> Pipeline:
    texts, labels = incivility_corpus_load()
    return incivility_fit(texts=texts, labels=labels)


@pytest.fixture(scope="module")
def result(fitted: Pipeline) -> FitResult:
    texts, labels = incivility_corpus_load()
    return FitResult(
        blob=sklearn_dump(fitted),
        format=FORMAT_SKOPS,
        training_data_sha256=training_data_sha256(
            sorted(zip(texts, labels, strict=True))
        ),
        parameters={"C": 30.0},
        metrics={"held_out": {"roc_auc": 0.95}},
    )


@pytest.fixture(autouse=True)
def empty_model_cache() -> Iterator[None]:
    model_cache_clear()
    yield
    model_cache_clear()


@pytest.fixture
def tampering_allowed(db: Any) -> None:
    """Lift the immutability trigger to simulate someone who can drop it.

    The DROP runs inside the test's transaction, so it is rolled back with it.
    """
    artefact_trigger_remove(connection)


def _npz_result(seed: int) -> FitResult:
    arrays = {
        "item_ids": np.arange(5),
        "item_intercept": np.linspace(-0.5, 0.5, 5) + seed,
    }
    return FitResult(
        blob=arrays_dump(arrays),
        format=FORMAT_NPZ,
        training_data_sha256=training_data_sha256([seed]),
    )


# --- serialisation (no database) ------------------------------------------------------


def test_skops_round_trip_predicts_identically(fitted: Pipeline) -> None:
    loaded = sklearn_load(sklearn_dump(fitted))
    assert loaded is not fitted
    assert np.array_equal(
        incivility_scores(loaded, PROBES), incivility_scores(fitted, PROBES)
    )


def test_loading_refuses_a_type_outside_the_trusted_list() -> None:
    # FunctionTransformer can wrap any callable: exactly what must never load.
    blob = sio.dumps(Pipeline([("f", FunctionTransformer(np.log1p))]))
    with pytest.raises(ArtefactRefused, match="FunctionTransformer"):
        sklearn_load(blob)


def test_trusted_list_is_stricter_than_skops_defaults() -> None:
    # skops itself would load a StandardScaler; this store only takes what it lists.
    blob = sio.dumps(StandardScaler().fit(np.ones((3, 2))))
    assert not sio.get_untrusted_types(data=blob)
    with pytest.raises(ArtefactRefused, match="StandardScaler"):
        sklearn_load(blob)
    widened = SKOPS_TRUSTED_TYPES | {"sklearn.preprocessing._data.StandardScaler"}
    assert isinstance(sklearn_load(blob, trusted=widened), StandardScaler)


def test_loading_refuses_bytes_that_are_not_a_skops_archive() -> None:
    with pytest.raises(ArtefactRefused, match="not a skops archive"):
        sklearn_load(b"\x80\x04not a zip")


def test_npz_round_trip_and_pickle_refused() -> None:
    arrays = {"a": np.arange(4, dtype=np.int64), "b": np.array([0.25, -1.5])}
    loaded = arrays_load(arrays_dump(arrays))
    assert set(loaded) == {"a", "b"}
    assert np.array_equal(loaded["a"], arrays["a"]) and loaded["a"].dtype == np.int64
    assert np.array_equal(loaded["b"], arrays["b"])
    with pytest.raises(ArtefactRefused, match="dtype object"):
        arrays_dump({"x": np.array([{"evil": 1}], dtype=object)})
    # An archive written with an object array (pickled inside) is refused on load.
    buffer = io.BytesIO()
    np.savez(buffer, x=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ArtefactRefused):
        arrays_load(buffer.getvalue())


def test_training_hash_depends_on_content_and_order() -> None:
    rows = [["a", 1], ["b", 0]]
    assert training_data_sha256(rows) == training_data_sha256([["a", 1], ["b", 0]])
    assert training_data_sha256(rows) != training_data_sha256(list(reversed(rows)))
    assert training_data_sha256(rows) != training_data_sha256([["a", 1], ["b", 1]])


# --- the store ------------------------------------------------------------------------


@pytest.mark.django_db
def test_versions_are_sequential_per_name(result: FitResult) -> None:
    first = model_artefact_create(name="incivility", result=result)
    second = model_artefact_create(name="incivility", result=result)
    other = model_artefact_create(name="bridging", result=_npz_result(0))
    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert first.blob_sha256 == second.blob_sha256
    assert not first.is_active and first.activated_at is None


@pytest.mark.django_db
def test_create_refuses_untrusted_blob_and_bad_metadata(result: FitResult) -> None:
    bad_blob = FitResult(
        blob=sio.dumps(FunctionTransformer(np.log1p)),
        format=FORMAT_SKOPS,
        training_data_sha256=result.training_data_sha256,
    )
    with pytest.raises(ValidationError) as excinfo:
        model_artefact_create(name="incivility", result=bad_blob)
    assert "FunctionTransformer" in str(excinfo.value.message_dict["blob"])
    with pytest.raises(ValidationError) as excinfo:
        model_artefact_create(
            name="Bad Name!",
            result=FitResult(blob=b"", format="pickle", training_data_sha256="nope"),
        )
    assert set(excinfo.value.message_dict) == {
        "name",
        "format",
        "training_data_sha256",
        "blob",
    }
    assert not ModelArtefact.objects.exists()


@pytest.mark.django_db
def test_activation_writes_the_ledger_entry(result: FitResult) -> None:
    artefact = model_artefact_create(name="incivility", result=result)
    activated = model_activate(artefact=artefact, actor="user:7")
    assert activated.is_active and activated.activated_at is not None
    entry = LedgerEntry.objects.get(kind="model.activated")
    assert entry.actor == "user:7"
    assert entry.subject == "model:incivility:v1"
    assert entry.payload == {
        "name": "incivility",
        "version": 1,
        "blob_sha256": artefact.blob_sha256,
        "training_data_sha256": result.training_data_sha256,
        "metrics": {"held_out": {"roc_auc": 0.95}},
    }
    assert model_versions_active() == {"incivility": 1}
    active = model_active(name="incivility")
    assert active is not None and active.pk == artefact.pk


@pytest.mark.django_db
def test_rollback_after_activation_leaves_neither_activation_nor_entry(
    result: FitResult,
) -> None:
    artefact = model_artefact_create(name="incivility", result=result)
    entries_before = LedgerEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        model_activate(artefact=artefact, actor="user:7")
        raise RuntimeError("crash after activating, before commit")
    assert model_active(name="incivility") is None
    assert LedgerEntry.objects.count() == entries_before
    artefact.refresh_from_db()
    assert not artefact.is_active and artefact.activated_at is None


@pytest.mark.django_db
def test_only_one_version_active_and_switching_back_is_logged(
    result: FitResult,
) -> None:
    v1 = model_artefact_create(name="incivility", result=result)
    v2 = model_artefact_create(name="incivility", result=result)
    model_activate(artefact=v1, actor="system:test")
    model_activate(artefact=v2, actor="system:test")
    assert model_versions_active() == {"incivility": 2}
    model_activate(artefact=v1, actor="system:test")
    assert model_versions_active() == {"incivility": 1}
    assert ModelArtefact.objects.filter(name="incivility", is_active=True).count() == 1
    subjects = list(
        LedgerEntry.objects.filter(kind="model.activated").values_list(
            "subject", flat=True
        )
    )
    assert subjects == [
        "model:incivility:v1",
        "model:incivility:v2",
        "model:incivility:v1",
    ]


@pytest.mark.django_db
def test_activating_the_active_version_logs_nothing(result: FitResult) -> None:
    artefact = model_artefact_create(name="incivility", result=result)
    model_activate(artefact=artefact, actor="system:test")
    model_activate(artefact=artefact, actor="someone:else")
    assert LedgerEntry.objects.filter(kind="model.activated").count() == 1
    artefact.refresh_from_db()
    assert artefact.activated_by == "system:test"


@pytest.mark.django_db
def test_database_refuses_changing_a_stored_artefact(result: FitResult) -> None:
    artefact = model_artefact_create(name="incivility", result=result)
    rows = ModelArtefact.objects.filter(pk=artefact.pk)
    other_blob = sio.dumps(StandardScaler().fit(np.ones((3, 2))))
    for change in (
        {"blob": other_blob},
        {"metrics": {"held_out": {"roc_auc": 0.99}}},
        {"training_data_sha256": "0" * 64},
        {"version": 7},
    ):
        with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
            rows.update(**change)
    artefact.parameters = {"C": 1.0}
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        artefact.save()
    # Activation fields stay writable; saving unchanged values is no change.
    rows.update(activated_by="system:test")
    fresh = ModelArtefact.objects.get(pk=artefact.pk)
    fresh.save()
    assert fresh.metrics == {"held_out": {"roc_auc": 0.95}}
    assert sha256_hex(bytes(fresh.blob)) == artefact.blob_sha256


@pytest.mark.django_db
def test_a_tampered_blob_is_neither_activated_nor_loaded(
    result: FitResult, tampering_allowed: None
) -> None:
    artefact = model_artefact_create(name="incivility", result=result)
    # Someone edits the row behind the services' back.
    tampered = sio.dumps(StandardScaler().fit(np.ones((3, 2))))
    ModelArtefact.objects.filter(pk=artefact.pk).update(blob=tampered)
    with pytest.raises(ValidationError, match="altered"):
        model_activate(artefact=artefact, actor="system:test")
    assert not LedgerEntry.objects.filter(kind="model.activated").exists()
    with pytest.raises(ArtefactRefused, match="SHA-256"):
        model_load(artefact=artefact)


@pytest.mark.django_db
def test_loader_caches_per_version(
    result: FitResult, django_assert_num_queries: Any
) -> None:
    artefact = model_activate(
        artefact=model_artefact_create(name="incivility", result=result),
        actor="system:t",
    )
    first = model_load(artefact=artefact)
    with django_assert_num_queries(0):
        again = model_load(artefact=artefact)
    assert again is first
    npz = model_artefact_create(name="bridging", result=_npz_result(3))
    arrays = model_load(artefact=npz)
    assert np.allclose(arrays["item_intercept"], np.linspace(-0.5, 0.5, 5) + 3)
    v2 = model_artefact_create(name="incivility", result=result)
    assert model_load(artefact=v2) is not first


@pytest.mark.django_db
def test_models_warm_loads_the_active_models_only(
    result: FitResult, django_assert_num_queries: Any
) -> None:
    from ranking.selectors import model_cache_clear, models_warm

    active = model_activate(
        artefact=model_artefact_create(name="incivility", result=result),
        actor="system:t",
    )
    model_artefact_create(name="bridging", result=_npz_result(1))  # not active
    model_cache_clear()
    assert models_warm() == ["incivility"]
    # The request path then finds it loaded: no blob read.
    with django_assert_num_queries(0):
        model_load(artefact=active)
