"""What a feed page reads before it ranks anything, in one query.

A ranked page needs the viewer's stored feed choice, the policy in force, the
active model versions, and the viewer's follows, hidden accounts and "more /
less like this". Read one by one through the ORM that was six round trips on
every page; `feed_context_for` reads the same rows with one UNION ALL, each
row tagged with what it is. Each part stands for a selector elsewhere
(ranking.preferences.feed_preference_get, charter.selectors.
policy_active_record, ranking.candidates.models_active, feed.selectors.
hidden_author_ids, ranking.preferences.item_feedback_for); the tests compare
the two readings, so they cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from charter.models import CharterVersion
from feed.models import Block, Follow, Mute, Post, User
from ranking.models import FeedMode, FeedPreference, ItemFeedback, ModelArtefact
from ranking.preferences import FEEDBACK_READ_CAP


@dataclass(frozen=True)
class ViewerInputs:
    """What the viewer chose that the ranking depends on, read once per page."""

    viewer_id: int
    # Followed accounts (hidden ones left out) and their priority (-2..2).
    priorities: dict[int, int]
    # Blocked either way or muted: never candidates.
    hidden: frozenset[int]
    # (post id, author id, more) of the newest "more / less like this".
    feedback: tuple[tuple[int, int, bool], ...]

    @property
    def home_authors(self) -> list[int]:
        """Whose posts make up the home window: the followed accounts, then
        the viewer."""
        return [*sorted(self.priorities), self.viewer_id]

    def fingerprint(self) -> tuple[Any, ...]:
        """A hashable summary: equal exactly when the inputs are."""
        return (
            self.viewer_id,
            tuple(sorted(self.priorities.items())),
            tuple(sorted(self.hidden)),
            self.feedback,
        )


@dataclass(frozen=True)
class ActiveModels:
    versions: dict[str, int]
    hashes: dict[str, str]
    # The consensus artefact (without its blob) for the viewer's opinion group.
    consensus: ModelArtefact | None
    incivility_active: bool


@dataclass(frozen=True)
class FeedContext:
    """The viewer's stored feed choice, the policy, the models and the inputs."""

    mode: str
    multipliers: dict[str, float]
    # (version number, policy sha256, policy) in force; None before genesis.
    policy_record: tuple[int, str, dict[str, Any]] | None
    models: ActiveModels
    inputs: ViewerInputs


def _q(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


# Six columns in every branch: a tag, two integers, three texts.
_NO_TEXT = "CAST(NULL AS TEXT)"


def _viewer_branches() -> str:
    block, mute, follow = _q(Block), _q(Mute), _q(Follow)
    feedback, post = _q(ItemFeedback), _q(Post)
    none3 = f"{_NO_TEXT}, {_NO_TEXT}, {_NO_TEXT}"
    return (
        f"SELECT 'h', blocked_id, 0, {none3} FROM {block} WHERE blocker_id = %s "
        f"UNION ALL SELECT 'h', blocker_id, 0, {none3} FROM {block} "
        "WHERE blocked_id = %s "
        f"UNION ALL SELECT 'h', muted_id, 0, {none3} FROM {mute} WHERE muter_id = %s "
        f"UNION ALL SELECT 'f', followee_id, priority, {none3} FROM {follow} "
        "WHERE follower_id = %s "
        "UNION ALL SELECT * FROM (SELECT 'b', fb.post_id, p.author_id, "
        f"CASE WHEN fb.more THEN 'y' ELSE 'n' END, {_NO_TEXT}, {_NO_TEXT} "
        f"FROM {feedback} fb JOIN {post} p ON p.id = fb.post_id "
        "WHERE fb.user_id = %s "
        "ORDER BY fb.updated_at DESC, fb.id DESC LIMIT %s) AS recent_feedback"
    )


def _inputs_from(
    viewer_id: int, rows: Sequence[Sequence[Any]], hidden: Sequence[int] | None
) -> ViewerInputs:
    hidden_set = (
        frozenset(int(r[1]) for r in rows if r[0] == "h")
        if hidden is None
        else frozenset(int(h) for h in hidden)
    )
    return ViewerInputs(
        viewer_id=viewer_id,
        priorities={
            int(r[1]): int(r[2])
            for r in rows
            if r[0] == "f" and int(r[1]) not in hidden_set
        },
        hidden=hidden_set,
        # Sorted: one (post, author, more) per post, whatever order SQL gives.
        feedback=tuple(
            sorted((int(r[1]), int(r[2]), r[3] == "y") for r in rows if r[0] == "b")
        ),
    )


def viewer_inputs_for(
    *, viewer: User, hidden: Sequence[int] | None = None
) -> ViewerInputs:
    """The viewer's follows, hidden accounts and feedback, in one query.

    `hidden`, when given, replaces the hidden accounts read here.
    """
    viewer_id = int(viewer.pk)
    with connection.cursor() as cursor:
        cursor.execute(_viewer_branches(), [viewer_id] * 5 + [FEEDBACK_READ_CAP])
        rows = cursor.fetchall()
    return _inputs_from(viewer_id, rows, hidden)


def feed_context_for(*, viewer: User, at: datetime) -> FeedContext:
    """Everything `ranking.feed.feed_for` reads before ranking, at `at`."""
    viewer_id = int(viewer.pk)
    adapt = connection.ops.adapt_datetimefield_value
    sql = (
        _viewer_branches()
        + f" UNION ALL SELECT 'p', 0, 0, mode, CAST(multipliers AS TEXT), {_NO_TEXT} "
        f"FROM {_q(FeedPreference)} WHERE user_id = %s"
        " UNION ALL SELECT 'm', id, version, name, blob_sha256, format "
        f"FROM {_q(ModelArtefact)} WHERE is_active"
        " UNION ALL SELECT * FROM (SELECT 'c', number, 0, policy_sha256, "
        f"CAST(policy AS TEXT), {_NO_TEXT} FROM {_q(CharterVersion)} "
        "WHERE effective_at <= %s ORDER BY number DESC LIMIT 1) AS in_force"
    )
    params = [viewer_id] * 5 + [FEEDBACK_READ_CAP, viewer_id, adapt(at)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    mode, multipliers = str(FeedMode.RANKED), {}
    policy_record = None
    artefacts = []
    for row in rows:
        if row[0] == "p":
            mode, multipliers = str(row[3]), dict(json.loads(row[4] or "{}"))
        elif row[0] == "m":
            artefacts.append(
                ModelArtefact(
                    pk=int(row[1]),
                    version=int(row[2]),
                    name=str(row[3]),
                    blob_sha256=str(row[4]),
                    format=str(row[5]),
                    is_active=True,
                )
            )
        elif row[0] == "c":
            policy_record = (int(row[1]), str(row[3]), dict(json.loads(row[4])))
    by_name = {a.name: a for a in artefacts}
    return FeedContext(
        mode=mode,
        multipliers=multipliers,
        policy_record=policy_record,
        models=ActiveModels(
            versions={a.name: int(a.version) for a in artefacts},
            hashes={a.name: a.blob_sha256 for a in artefacts},
            consensus=by_name.get("consensus"),
            incivility_active="incivility" in by_name,
        ),
        inputs=_inputs_from(viewer_id, rows, None),
    )
