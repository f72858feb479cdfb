"""The charter's prose as Markdown: one format to ship, download and amend.

    # <title>

    <preamble paragraphs>

    ## Article 1. <article title>

    <article body>

The same parser reads the shipped v1 file and the text a board member edits in
the amendment form, so what is downloaded can be pasted back unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

ARTICLE_NUMBER_RE = re.compile(r"^[0-9]+[a-z]?$")
_HEADING_RE = re.compile(r"^##\s+Article\s+([0-9]+[a-z]?)\.\s+(.+?)\s*$")
TITLE_MAX = 200
BODY_MAX = 10_000
PREAMBLE_MAX = 10_000
ARTICLES_MAX = 60


@dataclass(frozen=True)
class ArticleText:
    number: str
    title: str
    body: str

    def as_dict(self) -> dict[str, str]:
        return {"number": self.number, "title": self.title, "body": self.body}


@dataclass(frozen=True)
class CharterText:
    title: str
    preamble: str
    articles: tuple[ArticleText, ...]


def charter_text_parse(markdown: str) -> CharterText:
    """Parse charter Markdown; raises ValidationError({"text": ...}) naming the line."""
    title = ""
    preamble: list[str] = []
    articles: list[tuple[str, str, list[str]]] = []
    for lineno, raw in enumerate(markdown.replace("\r\n", "\n").split("\n"), start=1):
        line = raw.rstrip()
        if line.startswith("# ") and not title and not articles:
            title = line[2:].strip()
            continue
        if line.startswith("## "):
            match = _HEADING_RE.match(line)
            if match is None:
                raise ValidationError(
                    {
                        "text": [
                            f"line {lineno}: article headings must read "
                            "'## Article <number>. <title>'"
                        ]
                    }
                )
            articles.append((match.group(1), match.group(2), []))
            continue
        if articles:
            articles[-1][2].append(line)
        else:
            preamble.append(line)
    return charter_text_clean(
        title=title,
        preamble="\n".join(preamble),
        articles=[
            {"number": n, "title": t, "body": "\n".join(b)} for n, t, b in articles
        ],
    )


def charter_text_clean(
    *, title: str, preamble: str, articles: list[dict[str, str]]
) -> CharterText:
    """Check and normalise title, preamble and articles; field-level errors."""
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    preamble = (preamble or "").strip()
    if not title:
        errors.setdefault("text", []).append("The charter needs a title ('# <title>').")
    elif len(title) > TITLE_MAX:
        errors.setdefault("text", []).append(
            f"The title is longer than {TITLE_MAX} characters."
        )
    if len(preamble) > PREAMBLE_MAX:
        errors.setdefault("text", []).append(
            f"The preamble is longer than {PREAMBLE_MAX} characters."
        )
    if not articles:
        errors.setdefault("articles", []).append(
            "The charter needs at least one article."
        )
    if len(articles) > ARTICLES_MAX:
        errors.setdefault("articles", []).append(f"At most {ARTICLES_MAX} articles.")
    cleaned: list[ArticleText] = []
    seen: set[str] = set()
    for i, item in enumerate(articles):
        if not isinstance(item, dict):
            errors.setdefault("articles", []).append(
                f"articles[{i}]: must be an object"
            )
            continue
        number = str(item.get("number", "")).strip()
        a_title = str(item.get("title", "")).strip()
        body = str(item.get("body", "")).strip()
        label = f"Article {number or i + 1}"
        if not ARTICLE_NUMBER_RE.match(number):
            errors.setdefault("articles", []).append(
                f"articles[{i}].number: '{number}' is not an article number "
                "like 3 or 3a"
            )
        elif number in seen:
            errors.setdefault("articles", []).append(
                f"{label}: the number is used twice"
            )
        seen.add(number)
        if not a_title or len(a_title) > TITLE_MAX:
            errors.setdefault("articles", []).append(
                f"{label}: needs a title of 1 to {TITLE_MAX} characters"
            )
        if not body:
            errors.setdefault("articles", []).append(
                f"{label}: the article has no text"
            )
        elif len(body) > BODY_MAX:
            errors.setdefault("articles", []).append(
                f"{label}: longer than {BODY_MAX} characters"
            )
        cleaned.append(ArticleText(number=number, title=a_title, body=body))
    if errors:
        raise ValidationError(errors)
    return CharterText(title=title, preamble=preamble, articles=tuple(cleaned))


def charter_text_render(text: CharterText) -> str:
    """Render charter text as Markdown that `charter_text_parse` reads back."""
    parts = [f"# {text.title}", ""]
    if text.preamble:
        parts += [text.preamble, ""]
    for article in text.articles:
        parts += [f"## Article {article.number}. {article.title}", "", article.body, ""]
    return "\n".join(parts)
