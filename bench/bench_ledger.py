"""Benchmark of the transparency ledger on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything \
        .venv/bin/python bench/bench_ledger.py [--size 1000000] [--rebuild]
        [--only proofs --only appends --only verify]

Works in its own database, `bench_ledger` on the same server (created and
migrated here; DATABASE_URL only says where the server is). It measures, each
next to a baseline taken in the same run on the same database:

1. inclusion-proof latency (p50/p99) in a tree of --size entries (default 1M),
   against a single-row primary-key lookup; target p99 <= 5 ms;
   (also with index-only scans off, i.e. as without the covering primary key);
2. append throughput with every entry committed on its own, on top of that big
   tree, against a bare one-row INSERT + COMMIT, for the current
   `ledger_append` and the previous append path kept here as a reference
   (interleaved rounds, same run); target >= 500 entries/s;
3. offline verification of a --verify-size (default 100k) entry download with
   `python -m accountability.verify` (a fresh process, as an auditor runs it),
   against merely reading and parsing the same file; target <= 10 s.

The big tree is built in bulk (entries and every complete subtree computed in
Python, loaded with COPY) and kept between runs; --rebuild forces a new one.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
BENCH_DB = "bench_ledger"
KINDS = (
    "charter.version_adopted",
    "policy.activated",
    "petition.opened",
    "ranking.override",
)


def bench_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "Set DATABASE_URL to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/postgres"
        )
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{BENCH_DB}"))


def ensure_database(server_url: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def setup_django(bench_url: str) -> None:
    os.environ["DATABASE_URL"] = bench_url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "charter_social.settings")
    # A throwaway signing key: the benchmark must not mint the site's real key.
    os.environ.setdefault(
        "LEDGER_KEY_FILE", str(Path(tempfile.gettempdir()) / "bench_ledger_ed25519.pem")
    )
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# Bulk build ----------------------------------------------------------------------


NULL = "\\N"  # COPY text format's NULL


def _copy_text(value: str) -> str:
    # COPY text format: backslash, tab and newlines must be escaped.
    return (
        value.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


def build_tree(size: int) -> None:
    """Replace the ledger with `size` synthetic entries and all their subtrees.

    Rows are generated and streamed into COPY in chunks; the leaf hashes are
    kept (32 MB per million) to compute the interior levels afterwards.
    """
    from django.db import connection, transaction

    from accountability.db_triggers import triggers_install, triggers_remove
    from accountability.models import node_key
    from accountability.services import entry_document
    from accountability.verify import canonical_json, leaf_hash, node_hash

    started = time.perf_counter()
    base = datetime(2026, 1, 1, tzinfo=UTC)
    leaves: list[bytes] = []
    with transaction.atomic():
        triggers_remove(connection)
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE accountability_ledgerentry, accountability_ledgernode"
            )
            raw = cursor.cursor
            with raw.copy(
                "COPY accountability_ledgerentry (index, created_at, kind, actor, "
                "subject, article, payload, body, leaf_hash) FROM STDIN"
            ) as copy:
                chunk: list[str] = []
                for index in range(size):
                    created = base + timedelta(milliseconds=index)
                    payload = {"n": index, "sha256": f"{index:064x}", "note": "bench"}
                    article = str(1 + index % 5) if index % 3 else None
                    kind = KINDS[index % len(KINDS)]
                    subject = f"charter:v{index}"
                    body = canonical_json(
                        entry_document(
                            index=index,
                            created_at=created,
                            kind=kind,
                            actor="system",
                            subject=subject,
                            article=article,
                            payload=payload,
                        )
                    )
                    leaf = leaf_hash(body)
                    leaves.append(leaf)
                    chunk.append(
                        f"{index}\t{created.isoformat()}\t{kind}\tsystem\t{subject}\t"
                        f"{article if article is not None else NULL}\t"
                        f"{_copy_text(json.dumps(payload))}\t{_copy_text(body.decode())}\t"
                        f"\\\\x{leaf.hex()}\n"
                    )
                    if len(chunk) == 20_000:
                        copy.write("".join(chunk))
                        chunk.clear()
                copy.write("".join(chunk))
            entries_done = time.perf_counter()
            with raw.copy(
                "COPY accountability_ledgernode (key, level, position, hash) FROM STDIN"
            ) as copy:
                level, height = leaves, 0
                while level:
                    for start in range(0, len(level), 20_000):
                        copy.write(
                            "".join(
                                f"{node_key(height, p)}\t{height}\t{p}\t"
                                f"\\\\x{value.hex()}\n"
                                for p, value in enumerate(
                                    level[start : start + 20_000], start
                                )
                            )
                        )
                    level = [
                        node_hash(level[i], level[i + 1])
                        for i in range(0, len(level) - 1, 2)
                    ]
                    height += 1
        triggers_install(connection)
    vacuum_tables()
    print(
        f"built a {size:,}-entry tree: entries {entries_done - started:.1f} s, "
        f"subtrees {time.perf_counter() - entries_done:.1f} s"
    )


def vacuum_tables() -> None:
    """VACUUM ANALYZE the ledger tables, as autovacuum does on a live server.

    Besides fresh statistics this sets the visibility map, without which an
    index-only scan still visits the heap for every row (autovacuum is off on
    the shared benchmark server, so nothing else would do it).
    """
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("accountability_ledgerentry", "accountability_ledgernode"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def needs_vacuum() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bool_or(last_vacuum IS NULL AND last_autovacuum IS NULL) "
            "OR bool_or(n_ins_since_vacuum > 50000) FROM pg_stat_user_tables "
            "WHERE relname LIKE 'accountability_ledger%%'"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def proof_plan(size: int) -> str:
    """EXPLAIN of the one query an inclusion proof runs, to show the index it uses."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accountability import selectors

    with CaptureQueriesContext(connection) as queries:
        selectors.inclusion_proof(index=size // 3, size=size)
    (query,) = queries.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + query["sql"])
        return "\n".join("    " + row[0] for row in cursor.fetchall())


# Measurements --------------------------------------------------------------------


def timed(
    samples: int, call: Callable[[int], object], pick: Callable[[], int]
) -> list[float]:
    out = []
    for _ in range(samples):
        arg = pick()
        t0 = time.perf_counter()
        call(arg)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def bench_proofs(size: int, samples: int, rounds: int = 5) -> None:
    """Proof latency against a one-row lookup, interleaved in `rounds` rounds.

    The proof is also timed with index-only scans switched off for its query
    (this session only), which is how it ran before the covering primary key:
    one heap visit per stored node.
    """
    from django.db import connection

    from accountability import selectors
    from accountability.models import LedgerEntry

    rng = random.Random(7)
    pick = lambda: rng.randrange(size)  # noqa: E731

    def lookup(i: int) -> object:
        return LedgerEntry.objects.filter(index=i).values_list("body").first()

    def proof(i: int) -> object:
        return selectors.inclusion_proof(index=i, size=size)

    def set_index_only(on: bool) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"SET enable_indexonlyscan = {'on' if on else 'off'}")

    # Warm the connection and caches the same way for both.
    timed(200, lookup, pick)
    timed(200, proof, pick)
    base: list[float] = []
    covered: list[float] = []
    heap: list[float] = []
    per_round = max(1, samples // rounds)
    for _ in range(rounds):
        base += timed(per_round, lookup, pick)
        covered += timed(per_round, proof, pick)
        set_index_only(False)
        heap += timed(per_round, proof, pick)
        set_index_only(True)
    consistency = timed(
        samples // 2,
        lambda i: selectors.consistency_proof(first=max(1, i), second=size),
        pick,
    )

    def line(name: str, values: list[float], note: str = "") -> str:
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        ratio = (
            f"  ({p50 / percentile(base, 0.5):.1f}x / "
            f"{p99 / percentile(base, 0.99):.1f}x the lookup)"
            if values is not base
            else ""
        )
        return f"  {name:42s} p50 {p50:6.3f} ms  p99 {p99:6.3f} ms{ratio}{note}"

    print(
        f"\ninclusion proof in a {size:,}-entry tree "
        f"({len(base)} random leaves each, {rounds} interleaved rounds):"
    )
    print("  the proof's single query:\n" + proof_plan(size))
    print(line("baseline single-row lookup", base))
    print(line("inclusion proof", covered, "  target p99 <= 5 ms"))
    print(line("inclusion proof, no index-only scan", heap))
    print(line("consistency proof", consistency))


def legacy_append(**fields: Any) -> Any:
    """The append path before commit "one-round-trip frontier" (kept as a reference).

    Savepoint-capable atomic, lock, last index, frontier by keys, ORM insert of
    the entry, bulk insert of the nodes: six statements inside BEGIN/COMMIT.
    Same validation, hashing and rows as accountability.services.ledger_append,
    so the two can be timed against each other in one run.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from accountability import services
    from accountability.models import LedgerEntry, LedgerNode, node_key
    from accountability.tree import compact_range
    from accountability.verify import canonical_json, leaf_hash, node_hash

    payload = services._validate(**fields)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s)", [services.LEDGER_LOCK_KEY]
            )
        last = (
            LedgerEntry.objects.order_by("-index")
            .values_list("index", flat=True)
            .first()
        )
        index = 0 if last is None else int(last) + 1
        ids = compact_range(index)
        stored = {
            (n.level, n.position): bytes(n.hash)
            for n in LedgerNode.objects.filter(key__in=[node_key(*i) for i in ids])
        }
        frontier = [(lvl, pos, stored[(lvl, pos)]) for lvl, pos in ids]
        created_at = timezone.now()
        body = canonical_json(
            services.entry_document(
                index=index,
                created_at=created_at,
                payload=payload,
                **{k: fields[k] for k in ("kind", "actor", "subject", "article")},
            )
        )
        leaf = leaf_hash(body)
        nodes = [LedgerNode(key=node_key(0, index), level=0, position=index, hash=leaf)]
        level, position, value = 0, index, leaf
        while frontier and frontier[-1][0] == level:
            _, _, left = frontier.pop()
            level, position, value = level + 1, position >> 1, node_hash(left, value)
            nodes.append(
                LedgerNode(
                    key=node_key(level, position),
                    level=level,
                    position=position,
                    hash=value,
                )
            )
        entry = LedgerEntry.objects.create(
            index=index,
            created_at=created_at,
            payload=payload,
            body=body.decode("utf-8"),
            leaf_hash=leaf,
            **{k: fields[k] for k in ("kind", "actor", "subject", "article")},
        )
        LedgerNode.objects.bulk_create(nodes)
    return entry


def _fields(n: int) -> dict[str, Any]:
    return {
        "kind": "ranking.override",
        "actor": "system",
        "subject": f"post:{n}",
        "payload": {"bench": n, "reason": "append throughput"},
        "article": "4",
    }


def _statements(append: Callable[..., object], n: int) -> int:
    """SQL statements one append sends, BEGIN and COMMIT included (as logged)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        append(**_fields(n))
    return len(queries.captured_queries)


def _timed_appends(append: Callable[..., object], count: int, offset: int) -> float:
    t0 = time.perf_counter()
    for i in range(count):  # no surrounding transaction: each append commits alone
        append(**_fields(offset + i))
    return time.perf_counter() - t0


def _timed_inserts(cursor: Any, count: int) -> float:
    t0 = time.perf_counter()
    for i in range(count):  # autocommit: each INSERT commits on its own
        cursor.execute(
            "INSERT INTO bench_baseline_insert (body) VALUES (%s)", [f"row {i}"]
        )
    return time.perf_counter() - t0


def bench_appends(count: int, rounds: int = 8) -> None:
    """Bare INSERT, the old append and the new one, interleaved in `rounds` rounds.

    Interleaving spreads the machine's load swings over all three alike, so
    their ratios are fairer than back-to-back blocks.
    """
    from django.db import connection

    from accountability.services import ledger_append

    variants: dict[str, Callable[..., object]] = {
        "ledger_append (before)": legacy_append,
        "ledger_append (now)": ledger_append,
    }
    per_round = max(1, count // rounds)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_baseline_insert (body text)")
        statements = {
            name: _statements(fn, -1 - i)
            for i, (name, fn) in enumerate(variants.items())
        }
        for sync in ("on", "off"):
            # synchronous_commit=off (this session only) separates the ledger's
            # own cost from the WAL flush each commit waits for.
            cursor.execute(f"SET synchronous_commit = {sync}")
            spent = {"baseline": 0.0, **{name: 0.0 for name in variants}}
            offset = 0 if sync == "on" else 10 * count
            for _ in range(rounds):
                spent["baseline"] += _timed_inserts(cursor, per_round)
                for name, fn in variants.items():
                    spent[name] += _timed_appends(fn, per_round, offset)
                    offset += per_round
            done = per_round * rounds
            base = done / spent["baseline"]
            print(
                f"\nappend throughput, each entry committed, synchronous_commit={sync} "
                f"({done} each, {rounds} interleaved rounds)"
                + (" [diagnosis only]" if sync == "off" else "")
                + ":"
            )
            print(f"  baseline one-row INSERT+COMMIT        {base:8.0f} /s")
            for name in variants:
                rate = done / spent[name]
                target = "  target >= 500/s;" if sync == "on" else ""
                print(
                    f"  {name:37s} {rate:8.0f} /s  ({statements[name]} statements "
                    f"incl. BEGIN/COMMIT;{target} {rate / base:.2f}x the bare insert)"
                )
        cursor.execute("RESET synchronous_commit")
        cursor.execute("DROP TABLE bench_baseline_insert")


def bench_verify(size: int) -> None:
    from accountability import selectors, signing
    from accountability.verify import verify_log

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        log = folder / "log.jsonl"
        t0 = time.perf_counter()
        with log.open("wb") as f:
            for line in selectors.ledger_log_lines(start=0, end=size):
                f.write(line)
        exported = time.perf_counter() - t0
        megabytes = log.stat().st_size / 1e6
        (folder / "checkpoint").write_text(selectors.checkpoint_at(size=size).note)
        (folder / "key").write_text(signing.verifier_key() + "\n")

        t0 = time.perf_counter()
        with log.open("rb") as f:
            parsed = sum(1 for line in f if json.loads(line))
        baseline = time.perf_counter() - t0
        t0 = time.perf_counter()
        with log.open("rb") as f:
            verdict = verify_log(
                log_lines=f,
                checkpoint_note=(folder / "checkpoint").read_text(),
                key_text=(folder / "key").read_text(),
            )
        in_process = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "accountability.verify",
                "--log",
                str(log),
                "--checkpoint",
                str(folder / "checkpoint"),
                "--key",
                str(folder / "key"),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - t0
    assert verdict.ok and result.returncode == 0, (
        verdict,
        result.stdout,
        result.stderr,
    )
    print(f"\noffline verification of a {size:,}-entry download ({megabytes:.0f} MB):")
    print(f"  export log.jsonl from the database     {exported:6.2f} s")
    print(f"  baseline: read + parse {parsed:,} lines     {baseline:6.2f} s")
    print(
        f"  verify in process                      {in_process:6.2f} s  "
        f"({in_process / baseline:.1f}x the parse)"
    )
    print(f"  python -m accountability.verify (CLI)  {wall:6.2f} s  (target <= 10 s)")
    print(f"  verdict: {result.stdout.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--size", type=int, default=1_000_000, help="entries in the big tree"
    )
    parser.add_argument(
        "--appends", type=int, default=2000, help="committed appends to time"
    )
    parser.add_argument("--proofs", type=int, default=2000, help="proofs to time")
    parser.add_argument(
        "--verify-size", type=int, default=100_000, help="entries to verify offline"
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the big tree")
    parser.add_argument(
        "--only",
        action="append",
        choices=("proofs", "appends", "verify"),
        help="run only these parts (repeatable; default all three)",
    )
    args = parser.parse_args()

    bench_url = bench_database_url()
    ensure_database(os.environ["DATABASE_URL"])
    setup_django(bench_url)
    from accountability.selectors import ledger_size

    started = time.perf_counter()
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
        "(figures are wall-clock and move with other work on the machine)"
    )
    current = ledger_size()
    if args.rebuild or current < max(args.size, args.verify_size):
        build_tree(max(args.size, args.verify_size))
    else:
        print(
            f"reusing the {current:,}-entry tree in database {BENCH_DB} "
            "(--rebuild to rebuild)"
        )
        if needs_vacuum():
            print("VACUUM ANALYZE of the ledger tables (sets the visibility map)")
            vacuum_tables()
    parts = set(args.only or ("proofs", "appends", "verify"))
    if "proofs" in parts:
        bench_proofs(args.size, args.proofs)
    if "appends" in parts:
        bench_appends(args.appends)
    if "verify" in parts:
        bench_verify(args.verify_size)
    print(
        f"\ntotal {time.perf_counter() - started:.0f} s, "
        f"load average now {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
