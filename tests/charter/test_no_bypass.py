"""No code path creates a charter version (and so changes the policy) except adoption.

Scans the project's source: the only writer of CharterVersion rows is
`charter.services._version_create`, called by genesis (v1 only) and by
`amendment_close_vote` after a successful tally.
"""

from __future__ import annotations

import re
from pathlib import Path

import charter

ROOT = Path(charter.__file__).resolve().parent.parent
APPS = ["accountability", "charter", "charter_social", "feed", "frontend", "ranking"]
WRITES = re.compile(
    r"CharterVersion\.objects\.(create|bulk_create|get_or_create|update_or_create)"
    r"|(?<!class )CharterVersion\("
    r"|CharterArticle\.objects\.(create|bulk_create|get_or_create|update_or_create)"
    r"|UPDATE\s+charter_charter|INSERT\s+INTO\s+charter_charter",
    re.IGNORECASE,
)


def _sources() -> list[Path]:
    files: list[Path] = []
    for app in APPS:
        files += [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]
    return files


def test_only_the_adoption_service_writes_charter_versions() -> None:
    writers = {
        str(path.relative_to(ROOT))
        for path in _sources()
        if WRITES.search(path.read_text(encoding="utf-8"))
    }
    assert writers == {"charter/services.py"}


def test_version_create_is_called_only_by_genesis_and_vote_close() -> None:
    source = (ROOT / "charter" / "services.py").read_text(encoding="utf-8")
    callers: list[str] = []
    current = ""
    for line in source.splitlines():
        match = re.match(r"def (\w+)\(", line)
        if match:
            current = match.group(1)
        if "_version_create(" in line and not line.startswith("def "):
            callers.append(current)
    assert sorted(callers) == ["amendment_close_vote", "charter_genesis"]
    for path in _sources():
        if path.name != "services.py" or path.parent.name != "charter":
            assert "_version_create" not in path.read_text(encoding="utf-8"), path
