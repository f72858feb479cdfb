"""Safe (de)serialisation of fitted models, and the hashes that identify them.

Two formats, never bare pickle:

- ``skops`` for scikit-learn estimators. Loading first reads the archive's
  schema and refuses any type outside an explicit allowlist, *then* lets skops
  apply its own checks, so a tampered or unexpected blob fails before any object
  is built.
- ``npz`` for plain array models (bridging factors, cluster centres), loaded
  with ``allow_pickle=False`` so an object array cannot smuggle code in.

Fitters return a `FitResult`; `ranking.services.model_artefact_create` stores
it and `ranking.selectors.model_load` turns a stored blob back into a model.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import skops.io as sio

FORMAT_SKOPS = "skops"
FORMAT_NPZ = "npz"

# Every type a stored scikit-learn pipeline of ours may contain. Widening this
# list widens what a stored blob can make the server construct, so each entry
# is a deliberate decision (a reviewer should see it in the diff).
SKOPS_TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        "builtins.dict",
        "builtins.list",
        "builtins.str",
        "builtins.tuple",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "numpy.ndarray",
        "numpy.float64",
        "numpy.int64",
        "numpy.dtype",
        "sklearn.pipeline.Pipeline",
        "sklearn.pipeline.FeatureUnion",
        "sklearn.feature_extraction.text.TfidfVectorizer",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.linear_model._logistic.LogisticRegression",
        # Opinion-group models (consensus): decomposition + clustering.
        "sklearn.decomposition._pca.PCA",
        "sklearn.decomposition._truncated_svd.TruncatedSVD",
        "sklearn.cluster._kmeans.KMeans",
    }
)


class ArtefactRefused(ValueError):
    """A stored blob is corrupt, tampered with, or holds a type not on the allowlist."""


@dataclass(frozen=True)
class FitResult:
    """What a fitter hands to the artefact store: the model and its paperwork."""

    blob: bytes
    format: str
    training_data_sha256: str
    parameters: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of raw bytes."""
    return hashlib.sha256(data).hexdigest()


def training_data_sha256(records: Iterable[Any]) -> str:
    """Hash training records in a canonical JSON-lines form.

    Order matters on purpose: fitters sort their records first, so the same
    data hashes the same however the database returned it.
    """
    digest = hashlib.sha256()
    for record in records:
        line = json.dumps(
            record, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


# --- scikit-learn estimators through skops -------------------------------------------


def sklearn_dump(model: Any) -> bytes:
    """Serialise a fitted estimator with skops (deflate-compressed archive)."""
    return sio.dumps(model, compression=zipfile.ZIP_DEFLATED)


def skops_types(blob: bytes) -> set[str]:
    """Every ``module.Class`` the skops archive would construct when loaded."""
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ArtefactRefused(f"not a skops archive: {exc}") from exc
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            module, cls = node.get("__module__"), node.get("__class__")
            if isinstance(module, str) and isinstance(cls, str):
                found.add(f"{module}.{cls}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def sklearn_load(blob: bytes, *, trusted: Iterable[str] = SKOPS_TRUSTED_TYPES) -> Any:
    """Load a skops blob, refusing any type outside ``trusted``.

    Raises `ArtefactRefused` naming the offending types; nothing is constructed
    in that case.
    """
    allowed = frozenset(trusted)
    unexpected = skops_types(blob) - allowed
    if unexpected:
        raise ArtefactRefused(
            "refusing to load a model containing types outside the trusted list: "
            + ", ".join(sorted(unexpected))
        )
    # skops' own check runs too; anything it flags must also be on our list.
    flagged = set(sio.get_untrusted_types(data=blob))
    if flagged - allowed:
        raise ArtefactRefused(
            "refusing to load a model skops considers unsafe: "
            + ", ".join(sorted(flagged - allowed))
        )
    return sio.loads(blob, trusted=sorted(flagged))


# --- array models through numpy .npz --------------------------------------------------


def arrays_dump(arrays: Mapping[str, np.ndarray]) -> bytes:
    """Serialise named numeric arrays as a compressed ``.npz`` archive."""
    for name, array in arrays.items():
        if np.asarray(array).dtype == object:
            raise ArtefactRefused(
                f"array '{name}' has dtype object; only numeric arrays"
            )
    buffer = io.BytesIO()
    named: dict[str, Any] = {k: np.asarray(v) for k, v in arrays.items()}
    np.savez_compressed(buffer, allow_pickle=False, **named)
    return buffer.getvalue()


def arrays_load(blob: bytes) -> dict[str, np.ndarray]:
    """Load a ``.npz`` archive with pickling disabled."""
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ArtefactRefused(f"not a numeric .npz archive: {exc}") from exc


def blob_load(blob: bytes, *, format: str) -> Any:
    """Deserialise a stored blob by its declared format."""
    if format == FORMAT_SKOPS:
        return sklearn_load(blob)
    if format == FORMAT_NPZ:
        return arrays_load(blob)
    raise ArtefactRefused(f"unknown artefact format '{format}'")
