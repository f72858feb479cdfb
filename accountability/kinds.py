"""The one registry of ledger entry kinds, each described in plain words.

Every entry in the transparency log has one of these kinds. The descriptions are
shown on the public transparency page, so they are written for citizens, not
for engineers. Adding a kind is a code change reviewed like any other: a log
entry whose kind is not listed here is refused by `ledger_append`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EntryKind:
    name: str
    description: str


_KINDS: tuple[EntryKind, ...] = (
    EntryKind(
        "charter.version_adopted",
        "The oversight board adopted a new version of the charter; the payload "
        "carries the hashes of its text and machine-readable policy.",
    ),
    EntryKind(
        "policy.activated",
        "A charter policy became the one the ranker follows from now on.",
    ),
    EntryKind(
        "amendment.proposed",
        "A board member proposed a change to the charter's text or policy.",
    ),
    EntryKind(
        "amendment.opened",
        "An amendment moved to a new public stage (deliberation or voting).",
    ),
    EntryKind(
        "amendment.withdrawn",
        "An amendment was withdrawn before the vote.",
    ),
    EntryKind(
        "vote.cast",
        "A board member cast a vote on an amendment.",
    ),
    EntryKind(
        "vote.closed",
        "Voting on an amendment closed; the payload holds the tally and result.",
    ),
    EntryKind(
        "board.term",
        "An administrator appointed someone to the oversight board, or set when "
        "their term ends.",
    ),
    EntryKind(
        "model.activated",
        "A ranking model version was put into use; the payload holds the hashes "
        "of the model and of the data it was trained on.",
    ),
    EntryKind(
        "petition.opened",
        "A citizen opened a petition against a ranking decision or a charter article.",
    ),
    EntryKind(
        "petition.threshold_reached",
        "A petition gathered enough signatures that the board must answer it by "
        "a deadline.",
    ),
    EntryKind(
        "petition.answered",
        "The board answered a petition.",
    ),
    EntryKind(
        "petition.overdue",
        "The board's deadline to answer a petition passed without an answer.",
    ),
    EntryKind(
        "petition.expired",
        "A petition's signing period ended before it gathered enough signatures "
        "for the board to have to answer it.",
    ),
    EntryKind(
        "appeal.filed",
        "Someone appealed a decision (for example the board's answer to a "
        "petition, or a moderation action).",
    ),
    EntryKind(
        "appeal.answered",
        "An appeal was decided.",
    ),
    EntryKind(
        "ranking.override",
        "The ranking of one item was changed by hand, outside the ranker, with "
        "the reason and the charter article that allows it.",
    ),
    EntryKind(
        "moderation.action",
        "A moderator acted on a post or account (for example after a report).",
    ),
    EntryKind(
        "ledger.key_rotated",
        "The key that signs this log's checkpoints was replaced. The payload names "
        "the old and the new public key and the tree size from which the new key "
        "signs; the old key signed the checkpoint that includes this entry.",
    ),
)

ENTRY_KINDS: dict[str, EntryKind] = {kind.name: kind for kind in _KINDS}


def kind_get(name: str) -> EntryKind | None:
    """The registered kind called `name`, or None when there is no such kind."""
    return ENTRY_KINDS.get(name)


def kind_choices() -> list[tuple[str, str]]:
    """(name, name) pairs for forms and filters, in registry order."""
    return [(kind.name, kind.name) for kind in _KINDS]
