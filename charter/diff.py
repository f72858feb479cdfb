"""Side-by-side comparison of two charters (versions or a version and a proposal).

Prose is compared article by article, word by word; the policy is compared as
pretty-printed JSON line by line, and as the plain-words sentences people read.
The result is plain data, so the page, the API and the amendment page share it.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from .plain import policy_plain_items
from .text import CharterText

Segment = tuple[str, str]  # ("equal" | "delete" | "insert", text)
_TOKEN_RE = re.compile(r"\s+|[^\s]+")


@dataclass
class TextDiff:
    left: list[Segment]
    right: list[Segment]
    changed: bool


@dataclass
class ArticleDiff:
    number: str
    status: str  # "added" | "removed" | "changed" | "unchanged"
    left_title: str
    right_title: str
    body: TextDiff


@dataclass
class PolicyLine:
    left: str | None
    right: str | None
    tag: str  # "equal" | "replace" | "delete" | "insert"


@dataclass
class CharterDiff:
    title: TextDiff
    preamble: TextDiff
    articles: list[ArticleDiff]
    policy_lines: list[PolicyLine]
    rules_removed: list[str] = field(default_factory=list)
    rules_added: list[str] = field(default_factory=list)

    @property
    def changed_articles(self) -> list[ArticleDiff]:
        return [a for a in self.articles if a.status != "unchanged"]

    @property
    def policy_changed(self) -> bool:
        return any(line.tag != "equal" for line in self.policy_lines)

    def as_dict(self) -> dict[str, Any]:
        def text(d: TextDiff) -> dict[str, Any]:
            return {"left": d.left, "right": d.right, "changed": d.changed}

        return {
            "title": text(self.title),
            "preamble": text(self.preamble),
            "articles": [
                {
                    "number": a.number,
                    "status": a.status,
                    "left_title": a.left_title,
                    "right_title": a.right_title,
                    "body": text(a.body),
                }
                for a in self.articles
            ],
            "policy_lines": [
                {"left": p.left, "right": p.right, "tag": p.tag}
                for p in self.policy_lines
            ],
            "rules_removed": self.rules_removed,
            "rules_added": self.rules_added,
        }


def text_diff(left: str, right: str) -> TextDiff:
    """Word-level diff: the left side keeps deletions, the right side insertions."""
    a, b = _TOKEN_RE.findall(left), _TOKEN_RE.findall(right)
    out_left: list[Segment] = []
    out_right: list[Segment] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            chunk = "".join(a[i1:i2])
            out_left.append(("equal", chunk))
            out_right.append(("equal", chunk))
            continue
        if i2 > i1:
            out_left.append(("delete", "".join(a[i1:i2])))
        if j2 > j1:
            out_right.append(("insert", "".join(b[j1:j2])))
    return TextDiff(left=out_left, right=out_right, changed=left != right)


def _policy_lines(left: dict[str, Any], right: dict[str, Any]) -> list[PolicyLine]:
    a = json.dumps(left, indent=2, sort_keys=True).splitlines()
    b = json.dumps(right, indent=2, sort_keys=True).splitlines()
    lines: list[PolicyLine] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines += [PolicyLine(x, x, "equal") for x in a[i1:i2]]
            continue
        span = max(i2 - i1, j2 - j1)
        for k in range(span):
            lines.append(
                PolicyLine(
                    a[i1 + k] if i1 + k < i2 else None,
                    b[j1 + k] if j1 + k < j2 else None,
                    tag,
                )
            )
    return lines


def _rule_text(item: Any) -> str:
    return f"Article {item.article}: {item.text}"


def charter_diff(
    *,
    left_text: CharterText,
    left_policy: dict[str, Any],
    right_text: CharterText,
    right_policy: dict[str, Any],
) -> CharterDiff:
    """Compare two charters; articles are matched by number, in the right's order."""
    left_articles = {a.number: a for a in left_text.articles}
    right_articles = {a.number: a for a in right_text.articles}
    order = [a.number for a in right_text.articles] + [
        a.number for a in left_text.articles if a.number not in right_articles
    ]
    articles: list[ArticleDiff] = []
    for number in order:
        old, new = left_articles.get(number), right_articles.get(number)
        if old is None and new is not None:
            status = "added"
        elif new is None and old is not None:
            status = "removed"
        elif old == new:
            status = "unchanged"
        else:
            status = "changed"
        articles.append(
            ArticleDiff(
                number=number,
                status=status,
                left_title=old.title if old else "",
                right_title=new.title if new else "",
                body=text_diff(old.body if old else "", new.body if new else ""),
            )
        )
    left_rules = [_rule_text(i) for i in policy_plain_items(left_policy)]
    right_rules = [_rule_text(i) for i in policy_plain_items(right_policy)]
    return CharterDiff(
        title=text_diff(left_text.title, right_text.title),
        preamble=text_diff(left_text.preamble, right_text.preamble),
        articles=articles,
        policy_lines=_policy_lines(left_policy, right_policy),
        rules_removed=[r for r in left_rules if r not in right_rules],
        rules_added=[r for r in right_rules if r not in left_rules],
    )
