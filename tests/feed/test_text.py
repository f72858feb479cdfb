"""Post text: cleaning, @mentions, and rendering that stays inert whatever is typed."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feed.text import mentioned_usernames, post_body_clean, render_post_body

ALLOWED_ATTRIBUTES = {"a": {"href", "rel", "target", "class"}, "br": set()}


class Inspector(HTMLParser):
    """Collects every tag, attribute and text node of rendered HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "br":
            self.text.append("\n")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def inspect(html: str) -> Inspector:
    inspector = Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector


def assert_inert(html: str) -> Inspector:
    found = inspect(html)
    for tag, attrs in found.tags:
        assert tag in ALLOWED_ATTRIBUTES, f"unexpected <{tag}> in {html!r}"
        assert set(attrs) <= ALLOWED_ATTRIBUTES[tag], (
            f"unexpected attributes {attrs} in {html!r}"
        )
        href = attrs.get("href")
        if tag == "a":
            assert href is not None
            assert href.startswith(("https://", "http://", "/@")), href
    return found


def links(html: str) -> list[tuple[str | None, str | None]]:
    return [
        (attrs.get("href"), attrs.get("class"))
        for tag, attrs in inspect(html).tags
        if tag == "a"
    ]


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "javascript:alert(1)",
        '<a href="javascript:alert(1)">click</a>',
        'https://example.org/"onmouseover="alert(1)',
        "https://example.org/'><script>alert(1)</script>",
        "https://example.org/<svg/onload=alert(1)>",
        "@alice<script>",
        "&lt;script&gt; already escaped",
        "<style>body{display:none}</style>",
    ],
)
def test_xss_attempts_stay_inert_text(attack: str) -> None:
    html = str(render_post_body(attack))
    found = assert_inert(html)
    # What the reader sees is exactly what was typed.
    assert "".join(found.text) == attack


def test_quote_after_url_ends_the_link() -> None:
    html = str(render_post_body('"https://example.org/"onmouseover="x'))
    assert links(html) == [("https://example.org/", None)]


def test_urls_become_links_without_trailing_punctuation() -> None:
    html = str(
        render_post_body("read https://example.org/a?b=1&c=2. then (http://x.org/y)")
    )
    assert links(html) == [
        ("https://example.org/a?b=1&c=2", None),
        ("http://x.org/y", None),
    ]
    assert 'rel="nofollow noopener ugc"' in html
    assert "&amp;c=2" in html


def test_mentions_link_to_profiles_but_emails_and_url_paths_do_not() -> None:
    html = str(
        render_post_body(
            "hi @Alice and @bob_2, mail me@example.org, see https://x.org/@carol"
        )
    )
    assert links(html) == [
        ("/@Alice/", "mention"),
        ("/@bob_2/", "mention"),
        ("https://x.org/@carol", None),
    ]


def test_newlines_become_line_breaks() -> None:
    assert str(render_post_body("one\ntwo")) == "one<br>two"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [*"ab @_:/.<>\"'&;=()\n", "https://", "@al", "\u200b", "&quot;"]
        ),
        max_size=40,
    ).map("".join)
)
def test_any_text_renders_inert_and_loses_nothing(body: str) -> None:
    found = assert_inert(str(render_post_body(body)))
    assert "".join(found.text) == body


@settings(deadline=None)
@given(st.text(max_size=120))
def test_rendered_arbitrary_unicode_is_inert_and_complete(body: str) -> None:
    found = assert_inert(str(render_post_body(body)))
    assert "".join(found.text) == body


def test_clean_strips_and_normalises_line_endings() -> None:
    assert post_body_clean("  hello\r\nworld  ") == "hello\nworld"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        (" \n\t ", "empty"),
        ("\u200b\ufeff", "empty"),
        ("x" * 501, "at most 500"),
        (None, "as text"),
        (42, "as text"),
        ("a\x00b", "NUL"),
    ],
)
def test_clean_rejects_with_a_message(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        post_body_clean(raw)


def test_clean_counts_length_after_stripping() -> None:
    assert post_body_clean("  " + "x" * 500 + "  ") == "x" * 500


def test_mentioned_usernames_are_lowercased_unique_and_ordered() -> None:
    assert mentioned_usernames("@Bob hi @alice @bob me@carol.org @al") == [
        "bob",
        "alice",
    ]


def test_rendering_is_reused_but_follows_the_url_prefix() -> None:
    from django.urls import set_script_prefix

    body = "hello @someone_here, see https://example.org/x"
    try:
        first = render_post_body(body)
        assert render_post_body(body) == first
        assert 'class="mention"' in first and "/mounted/" not in first
        set_script_prefix("/mounted/")
        moved = str(render_post_body(body))
        # A cached rendering made under "/" is not handed out under "/mounted/".
        assert 'href="/mounted/' in moved
        assert moved != str(first)
    finally:
        set_script_prefix("/")
