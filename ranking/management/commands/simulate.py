"""``manage.py simulate``: compare feeds on a synthetic society.

SIMULATION — synthetic data. Writes simulation.json, simulation.md and
simulation.svg into ``--out``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ranking.simulation.report import markdown_table, write_outputs
from ranking.simulation.run import LABEL, run_simulation


class Command(BaseCommand):
    help = (
        "SIMULATION — synthetic data: compare chronological, engagement-optimised "
        "and charter feeds on a synthetic society."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=2000)
        parser.add_argument("--posts", type=int, default=20000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", type=Path, default=Path("var/simulation"))
        parser.add_argument(
            "--viewers", type=int, default=300, help="viewers whose feeds are scored"
        )
        parser.add_argument(
            "--no-reference",
            action="store_true",
            help="skip the slow reference fit in the bridging-drift comparison",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["users"] < 20 or opts["posts"] < 100:
            raise CommandError("use at least --users 20 and --posts 100")
        if opts["viewers"] < 1:
            raise CommandError("--viewers must be at least 1")
        self.stdout.write(LABEL)
        result = run_simulation(
            users=opts["users"],
            posts=opts["posts"],
            seed=opts["seed"],
            eval_viewers=opts["viewers"],
            with_reference=not opts["no_reference"],
            progress=lambda msg: self.stderr.write(f"  … {msg}"),
        )
        paths = write_outputs(result, opts["out"])
        self.stdout.write(markdown_table(result))
        for kind, path in paths.items():
            self.stdout.write(f"wrote {kind}: {path}")
