"""Charter Markdown: the download parses back to the same text; errors name the line."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from charter.diff import charter_diff, text_diff
from charter.services import GENESIS_TEXT
from charter.text import charter_text_parse, charter_text_render

V1_TEXT = GENESIS_TEXT.read_text()


def test_v1_round_trips_through_render_and_parse() -> None:
    text = charter_text_parse(V1_TEXT)
    assert text.title == "The Charter of Charter Social"
    assert [a.number for a in text.articles] == [str(n) for n in range(1, 11)]
    assert charter_text_parse(charter_text_render(text)) == text


def test_bad_heading_names_the_line() -> None:
    with pytest.raises(ValidationError) as caught:
        charter_text_parse("# T\n\nintro\n\n## 1 Wellbeing\n\nbody\n")
    assert caught.value.message_dict["text"][0].startswith("line 5:")


def test_duplicate_numbers_and_empty_articles_are_refused() -> None:
    md = "# T\n\n## Article 1. A\n\ntext\n\n## Article 1. B\n\n## Article 2. C\n"
    with pytest.raises(ValidationError) as caught:
        charter_text_parse(md)
    messages = caught.value.message_dict["articles"]
    assert "Article 1: the number is used twice" in messages
    assert "Article 1: the article has no text" in messages
    assert "Article 2: the article has no text" in messages


def test_word_diff_marks_only_the_changed_words() -> None:
    diff = text_diff("the feed ends here", "the feed stops here")
    assert ("delete", "ends") in diff.left and ("insert", "stops") in diff.right
    assert ("equal", "the feed ") in diff.left


def test_charter_diff_reports_added_removed_and_changed_articles() -> None:
    old = charter_text_parse(
        "# T\n\n## Article 1. A\n\none\n\n## Article 2. B\n\ntwo\n"
    )
    new = charter_text_parse(
        "# T\n\n## Article 1. A\n\nuno\n\n## Article 3. C\n\nthree\n"
    )
    policy: dict[str, list[str]] = {"objectives": [], "constraints": []}
    diff = charter_diff(
        left_text=old, left_policy=policy, right_text=new, right_policy=policy
    )
    assert {a.number: a.status for a in diff.articles} == {
        "1": "changed",
        "3": "added",
        "2": "removed",
    }
    assert not diff.policy_changed
