"""The charter's machine-readable policy: its JSON Schema, validation and hash.

A policy is first checked against the published JSON Schema (draft 2020-12),
then against rules a schema cannot express: signal names exist in the ranking
registry, engagement-prediction signals carry no weight, every citation names
an article of the same charter version. All problems are reported together,
each prefixed with the JSON path of the offending value, so a board member can
fix a draft in one pass.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from django.core.exceptions import ValidationError
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError

from ranking.registry import FORBIDDEN_BY_DESIGN, SIGNALS

POLICY_SCHEMA_ID = "charter-policy/1"
WEIGHT_MIN = -5.0
WEIGHT_MAX = 5.0
# A citizen may scale a charter weight, never flip or multiply it beyond this.
CONTROL_FACTOR_MAX = 5.0
# Sections without per-item citations cite their authorising article here.
CITED_SECTIONS = ("forbidden_signals", "feed", "user_controls", "petitions", "board")

_ARTICLE = {"type": "string", "pattern": "^[0-9]+[a-z]?$", "maxLength": 8}
_SIGNAL = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"}
_SHARE = {"type": "number", "minimum": 0, "maximum": 1}

POLICY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "/charter/policy.schema.json",
    "title": "Charter Social ranking policy",
    "description": (
        "The machine-readable part of a charter version. Every objective and "
        "constraint cites the article that authorises it; every other section "
        "is cited in `citations`. Semantic rules beyond this schema: signal "
        "names must exist in the ranking registry, forbidden signals may not "
        "carry non-zero weight and must include every engagement-prediction "
        "signal, cited articles must exist in the same charter version, an "
        "objective signal appears once, daily_limit >= page_size, and user "
        "controls bound signals that are objectives with min <= 1 <= max."
    ),
    "type": "object",
    "additionalProperties": False,
    "required": [
        "schema",
        "objectives",
        "constraints",
        "forbidden_signals",
        "feed",
        "user_controls",
        "petitions",
        "board",
        "citations",
    ],
    "properties": {
        "schema": {"const": POLICY_SCHEMA_ID},
        "objectives": {
            "description": (
                "The ranking score of a post is the sum of weight x signal value "
                "over these objectives. Signal values are in the registry's range."
            ),
            "type": "array",
            "minItems": 1,
            "maxItems": 32,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["signal", "weight", "article"],
                "properties": {
                    "signal": _SIGNAL,
                    "weight": {
                        "type": "number",
                        "minimum": WEIGHT_MIN,
                        "maximum": WEIGHT_MAX,
                    },
                    "article": _ARTICLE,
                    "half_life_hours": {
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "maximum": 720,
                    },
                },
                # Recency is meaningless without the speed at which it decays.
                "if": {"properties": {"signal": {"const": "recency"}}},
                "then": {"required": ["half_life_hours"]},
            },
        },
        "constraints": {
            "description": (
                "Applied after scoring: max_author_share caps one author's share of "
                "a page; min_cross_cutting_share reserves a share of a page for "
                "cross-cutting posts when available; demote lowers posts whose "
                "signal exceeds `above`, with a recorded statement of reasons."
            ),
            "type": "array",
            "maxItems": 32,
            "items": {
                "type": "object",
                "required": ["kind", "article"],
                "properties": {
                    "kind": {
                        "enum": [
                            "max_author_share",
                            "min_cross_cutting_share",
                            "demote",
                        ]
                    }
                },
                "oneOf": [
                    {
                        "additionalProperties": False,
                        "required": ["kind", "value", "article"],
                        "properties": {
                            "kind": {"const": "max_author_share"},
                            "value": {
                                "type": "number",
                                "exclusiveMinimum": 0,
                                "maximum": 1,
                            },
                            "article": _ARTICLE,
                        },
                    },
                    {
                        "additionalProperties": False,
                        "required": ["kind", "value", "article"],
                        "properties": {
                            "kind": {"const": "min_cross_cutting_share"},
                            "value": {
                                "type": "number",
                                "minimum": 0,
                                "exclusiveMaximum": 1,
                            },
                            "article": _ARTICLE,
                        },
                    },
                    {
                        "additionalProperties": False,
                        "required": ["kind", "signal", "above", "article"],
                        "properties": {
                            "kind": {"const": "demote"},
                            "signal": _SIGNAL,
                            "above": {"type": "number"},
                            "article": _ARTICLE,
                        },
                    },
                ],
            },
        },
        "forbidden_signals": {
            "description": "Signals that may never carry weight in any objective.",
            "type": "array",
            "items": _SIGNAL,
            "uniqueItems": True,
        },
        "feed": {
            "type": "object",
            "additionalProperties": False,
            "required": ["page_size", "daily_limit", "caught_up_marker"],
            "properties": {
                "page_size": {"type": "integer", "minimum": 5, "maximum": 100},
                "daily_limit": {"type": "integer", "minimum": 5, "maximum": 5000},
                "caught_up_marker": {"type": "boolean"},
            },
        },
        "user_controls": {
            "description": (
                "Per-signal factor a citizen may apply to the charter's weight in "
                "their own feed: effective weight = weight x factor, min <= factor "
                "<= max (factor 1 is the charter's own weight)."
            ),
            "type": "array",
            "maxItems": 32,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["signal", "min", "max"],
                "properties": {
                    "signal": _SIGNAL,
                    "min": {
                        "type": "number",
                        "minimum": 0,
                        "maximum": CONTROL_FACTOR_MAX,
                    },
                    "max": {
                        "type": "number",
                        "minimum": 0,
                        "maximum": CONTROL_FACTOR_MAX,
                    },
                },
            },
        },
        "petitions": {
            "description": (
                "response_threshold co-signatures oblige the board to answer within "
                "response_days; the answer may be appealed within appeal_days."
            ),
            "type": "object",
            "additionalProperties": False,
            "required": ["response_threshold", "response_days", "appeal_days"],
            "properties": {
                "response_threshold": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 1_000_000,
                },
                "response_days": {"type": "integer", "minimum": 1, "maximum": 365},
                "appeal_days": {"type": "integer", "minimum": 1, "maximum": 365},
            },
        },
        "board": {
            "description": (
                "quorum: minimum share of sitting members casting a ballot (abstain "
                "counts); majority: minimum share of yes among yes and no votes; "
                "yes must also outnumber no."
            ),
            "type": "object",
            "additionalProperties": False,
            "required": ["quorum", "majority"],
            "properties": {
                "quorum": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                "majority": {"type": "number", "minimum": 0.5, "maximum": 1},
            },
        },
        "citations": {
            "description": "The article that authorises each uncited section.",
            "type": "object",
            "additionalProperties": False,
            "required": list(CITED_SECTIONS),
            "properties": {name: _ARTICLE for name in CITED_SECTIONS},
        },
    },
}

_VALIDATOR = Draft202012Validator(POLICY_SCHEMA)


def json_path(parts: Any) -> str:
    """Render a jsonschema path deque as `objectives[1].weight`."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(policy)"


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _schema_message(error: SchemaError) -> str:
    """Turn one jsonschema error into `path: what to change`."""
    path = json_path(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    validator = error.validator
    if validator in {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}:
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        if low is not None and high is not None:
            return f"{path}: must be between {_fmt(low)} and {_fmt(high)}"
        if "exclusiveMinimum" in schema:
            return f"{path}: must be greater than {_fmt(low)}"
        if low is not None:
            return f"{path}: must be at least {_fmt(low)}"
        return f"{path}: must be at most {_fmt(high)}"
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        prefix = f"{path}." if error.absolute_path else ""
        return f"{prefix}{missing}: is required"
    if validator == "additionalProperties":
        return (
            f"{path}: {error.message.replace('Additional properties', 'unknown field')}"
        )
    if validator == "type":
        return f"{path}: must be of type {error.validator_value}"
    if validator == "const":
        return f"{path}: must be {json.dumps(error.validator_value)}"
    if validator == "enum":
        options = ", ".join(str(v) for v in error.validator_value)
        return f"{path}: must be one of {options}"
    if validator == "pattern":
        return (
            f"{path}: {error.instance!r} is not a valid name "
            f"(pattern {error.validator_value})"
        )
    if validator == "oneOf":
        # Report the branch matching the constraint's kind; its errors name the field.
        kind = error.instance.get("kind") if isinstance(error.instance, dict) else None
        for sub in error.context or []:
            branch = error.validator_value[sub.schema_path[0]]
            if branch["properties"]["kind"].get("const") == kind:
                return _schema_message(sub)
        return f"{path}: does not match any constraint kind"
    if validator in {"minItems", "maxItems"}:
        return f"{path}: {error.message}"
    if validator == "uniqueItems":
        return f"{path}: must not repeat an item"
    return f"{path}: {error.message}"


def _semantic_errors(policy: dict[str, Any], articles: set[str]) -> list[str]:
    errors: list[str] = []
    forbidden = set(policy["forbidden_signals"])

    def cite(path: str, article: str) -> None:
        if article not in articles:
            known = ", ".join(sorted(articles, key=_article_key)) or "none"
            errors.append(
                f"{path}.article: cites article {article}, which this charter version "
                f"does not have (articles: {known})"
            )

    def known_signal(path: str, name: str) -> bool:
        if name not in SIGNALS:
            errors.append(
                f"{path}: unknown signal '{name}'; "
                f"known signals: {', '.join(sorted(SIGNALS))}"
            )
            return False
        return True

    for i, name in enumerate(policy["forbidden_signals"]):
        known_signal(f"forbidden_signals[{i}]", name)
    for name in sorted(FORBIDDEN_BY_DESIGN - forbidden):
        errors.append(
            f"forbidden_signals: must include '{name}' "
            "(engagement-prediction signals are forbidden by design)"
        )

    seen: set[str] = set()
    objective_signals: set[str] = set()
    for i, objective in enumerate(policy["objectives"]):
        path = f"objectives[{i}]"
        name = objective["signal"]
        if known_signal(f"{path}.signal", name):
            if (name in forbidden or name in FORBIDDEN_BY_DESIGN) and objective[
                "weight"
            ] != 0:
                errors.append(
                    f"{path}.weight: '{name}' is a forbidden signal and may not carry "
                    "weight; remove the objective or set its weight to 0"
                )
            if name != "recency" and "half_life_hours" in objective:
                errors.append(f"{path}.half_life_hours: only the recency signal decays")
        if name in seen:
            errors.append(
                f"{path}.signal: '{name}' appears twice; merge the two objectives"
            )
        seen.add(name)
        if objective["weight"] != 0:
            objective_signals.add(name)
        cite(path, objective["article"])

    for i, constraint in enumerate(policy["constraints"]):
        path = f"constraints[{i}]"
        if constraint["kind"] == "demote":
            name = constraint["signal"]
            if known_signal(f"{path}.signal", name):
                spec = SIGNALS[name]
                if name in forbidden or name in FORBIDDEN_BY_DESIGN:
                    errors.append(
                        f"{path}.signal: '{name}' is forbidden and cannot steer ranking"
                    )
                if not spec.low <= constraint["above"] <= spec.high:
                    errors.append(
                        f"{path}.above: must be between {_fmt(spec.low)} and "
                        f"{_fmt(spec.high)} (the range of {name})"
                    )
        cite(path, constraint["article"])

    feed = policy["feed"]
    if feed["daily_limit"] < feed["page_size"]:
        errors.append("feed.daily_limit: must be at least feed.page_size")

    controlled: set[str] = set()
    for i, control in enumerate(policy["user_controls"]):
        path = f"user_controls[{i}]"
        name = control["signal"]
        if name in controlled:
            errors.append(f"{path}.signal: '{name}' appears twice")
        controlled.add(name)
        if name not in objective_signals:
            errors.append(
                f"{path}.signal: '{name}' is not a weighted objective, so there is "
                "nothing for a citizen to tune"
            )
        if not control["min"] <= 1 <= control["max"]:
            errors.append(
                f"{path}: min must be at most 1 and max at least 1, so the charter's "
                "own weight stays available"
            )

    for section, article in policy["citations"].items():
        if article not in articles:
            known = ", ".join(sorted(articles, key=_article_key)) or "none"
            errors.append(
                f"citations.{section}: cites article {article}, which this charter "
                f"version does not have (articles: {known})"
            )
    return errors


def _article_key(number: str) -> tuple[int, str]:
    digits = "".join(c for c in number if c.isdigit())
    return (int(digits) if digits else 0, number)


def _path_of(message: str) -> str:
    return message.split(":", 1)[0]


def policy_validate(policy: Any, *, articles: set[str]) -> dict[str, Any]:
    """Validate a policy against the schema and the charter's articles.

    Returns a deep copy of the policy. Raises django ValidationError whose
    message dict is keyed by JSON path (`objectives[1].weight`) and whose
    messages start with that path, e.g. "objectives[1].weight: must be between
    -5 and 5".
    """
    if not isinstance(policy, dict):
        raise ValidationError({"(policy)": ["(policy): must be a JSON object"]})
    schema_errors = sorted(
        _VALIDATOR.iter_errors(policy), key=lambda e: list(e.absolute_path)
    )
    messages = [_schema_message(error) for error in schema_errors]
    if not messages:
        # Semantic checks rely on the shape the schema guarantees.
        messages = _semantic_errors(policy, articles)
    if messages:
        by_path: dict[str, list[str]] = {}
        for message in messages:
            by_path.setdefault(_path_of(message), []).append(message)
        raise ValidationError(by_path)
    return copy.deepcopy(policy)


def policy_canonical_bytes(policy: dict[str, Any]) -> bytes:
    """The one serialisation that is hashed and published (sorted keys, compact)."""
    return json.dumps(
        policy,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")


def policy_sha256(policy: dict[str, Any]) -> str:
    """Hex SHA-256 of the canonical serialisation; `sha256sum policy.json` agrees."""
    return hashlib.sha256(policy_canonical_bytes(policy)).hexdigest()


def validation_messages(error: ValidationError) -> list[str]:
    """Flatten a policy ValidationError into its path-prefixed messages."""
    if hasattr(error, "error_dict"):
        return [m for msgs in error.message_dict.values() for m in msgs]
    return list(error.messages)
