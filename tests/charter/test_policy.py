"""Policy validation: schema and semantic rules, each error naming its JSON path."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from charter.policy import policy_sha256, policy_validate
from charter.services import GENESIS_POLICY

V1 = json.loads(GENESIS_POLICY.read_text())
ARTICLES = {str(n) for n in range(1, 11)}


def _errors(policy: Any, articles: set[str] = ARTICLES) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        policy_validate(policy, articles=articles)
    return caught.value.message_dict


def _edit(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    policy = copy.deepcopy(V1)
    change(policy)
    return policy


def test_v1_is_valid_and_returned_as_a_copy() -> None:
    clean = policy_validate(V1, articles=ARTICLES)
    assert clean == V1 and clean is not V1
    clean["feed"]["page_size"] = 1
    assert V1["feed"]["page_size"] == 30


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (
            lambda p: p["objectives"][1].update(weight=9),
            "objectives[1].weight",
            "objectives[1].weight: must be between -5 and 5",
        ),
        (
            lambda p: p["objectives"][0].update(weight="high"),
            "objectives[0].weight",
            "objectives[0].weight: must be of type number",
        ),
        (
            lambda p: p["objectives"][0].pop("article"),
            "objectives[0].article",
            "objectives[0].article: is required",
        ),
        (
            lambda p: p["objectives"][4].pop("half_life_hours"),
            "objectives[4].half_life_hours",
            "objectives[4].half_life_hours: is required",
        ),
        (
            lambda p: p["constraints"][0].update(value=1.5),
            "constraints[0].value",
            "constraints[0].value: must be between 0 and 1",
        ),
        (
            lambda p: p["constraints"].append({"kind": "boost", "article": "1"}),
            "constraints[3].kind",
            "constraints[3].kind: must be one of max_author_share, "
            "min_cross_cutting_share, demote",
        ),
        (
            lambda p: p["feed"].update(page_size=500),
            "feed.page_size",
            "feed.page_size: must be between 5 and 100",
        ),
        (
            lambda p: p["board"].update(majority=0.4),
            "board.majority",
            "board.majority: must be between 0.5 and 1",
        ),
        (
            lambda p: p.update(schema="charter-policy/9"),
            "schema",
            'schema: must be "charter-policy/1"',
        ),
        (
            lambda p: p["petitions"].update(deadline=3),
            "petitions",
            "petitions: unknown field 'deadline' was unexpected)",
        ),
    ],
)
def test_schema_errors_name_the_field(
    change: Callable[[dict[str, Any]], None], path: str, message: str
) -> None:
    errors = _errors(_edit(change))
    assert path in errors
    if message.endswith(")"):
        assert errors[path][0].startswith(f"{path}: unknown field")
    else:
        assert errors[path] == [message]


def test_unknown_signal_is_refused_naming_the_known_ones() -> None:
    errors = _errors(_edit(lambda p: p["objectives"][0].update(signal="likes")))
    (message,) = errors["objectives[0].signal"]
    assert "unknown signal 'likes'" in message and "bridging" in message


def test_forbidden_signal_with_weight_is_refused() -> None:
    def add(p: dict[str, Any]) -> None:
        p["objectives"].append({"signal": "dwell_time", "weight": 0.1, "article": "4"})

    errors = _errors(_edit(add))
    assert "forbidden signal" in errors["objectives[6].weight"][0]


def test_forbidden_signal_with_zero_weight_is_allowed() -> None:
    def add(p: dict[str, Any]) -> None:
        p["objectives"].append({"signal": "dwell_time", "weight": 0, "article": "4"})

    policy_validate(_edit(add), articles=ARTICLES)


def test_engagement_signals_cannot_be_unforbidden() -> None:
    errors = _errors(_edit(lambda p: p.update(forbidden_signals=[])))
    assert len(errors["forbidden_signals"]) == 2


def test_missing_article_is_refused_everywhere_it_is_cited() -> None:
    errors = _errors(V1, articles=ARTICLES - {"5"})
    assert errors["objectives[4].article"][0].startswith(
        "objectives[4].article: cites article 5, which this charter version "
        "does not have"
    )
    assert "citations.feed" in errors and "citations.user_controls" in errors


def test_semantic_rules() -> None:
    def many(p: dict[str, Any]) -> None:
        p["objectives"].append({"signal": "bridging", "weight": 1, "article": "2"})
        p["objectives"][2]["half_life_hours"] = 3
        p["constraints"][2]["above"] = 7
        p["constraints"].append(
            {"kind": "demote", "signal": "dwell_time", "above": 1, "article": "4"}
        )
        p["feed"]["daily_limit"] = 10
        p["user_controls"].append({"signal": "consensus", "min": 1.2, "max": 2})
        p["user_controls"].append({"signal": "incivility", "min": 0, "max": 1})
        p["objectives"][3]["weight"] = 0

    errors = _errors(_edit(many))
    assert "appears twice" in errors["objectives[6].signal"][0]
    assert (
        "only the recency signal decays" in errors["objectives[2].half_life_hours"][0]
    )
    assert errors["constraints[2].above"] == [
        "constraints[2].above: must be between 0 and 1 (the range of incivility)"
    ]
    assert "forbidden" in errors["constraints[3].signal"][0]
    assert errors["feed.daily_limit"] == [
        "feed.daily_limit: must be at least feed.page_size"
    ]
    assert "min must be at most 1" in errors["user_controls[4]"][0]
    assert "not a weighted objective" in errors["user_controls[1].signal"][0]


@pytest.mark.parametrize("value", [None, [], "policy", 3])
def test_non_object_policy_is_refused(value: Any) -> None:
    assert _errors(value) == {"(policy)": ["(policy): must be a JSON object"]}


def test_hash_ignores_key_order_but_not_values() -> None:
    shuffled = json.loads(json.dumps(V1, sort_keys=True))
    assert policy_sha256(shuffled) == policy_sha256(V1)
    changed = _edit(lambda p: p["feed"].update(page_size=31))
    assert policy_sha256(changed) != policy_sha256(V1)
