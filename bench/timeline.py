"""Benchmark: an account timeline with 10,000 interactions and its audit events.

Builds a temporary SQLite (or DATABASE_URL) database with ``tokui seed --scale N`` (the large
book, 100,000 accounts by default), gives one account 10,000 interactions (with contacts and
our people) and a few thousand audit events, then prints p50/p95 and SQL queries per page for
the first page and for a deep page (by cursor, half-way down), through the selector, the htmx
fragment and the API, with the ratio to a baseline measured in the same run (one page of
interactions by primary key through the ORM), so the figures compare across machines.
Target (issue 4, SQLite, 100,000 accounts): first page p95 < 50 ms, queries per page constant.

Usage: python bench/timeline.py [--scale 100000] [--interactions 10000] [--events 3000]
       [--repeat 30]
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TOKUI_VAR_DIR", tempfile.mkdtemp(prefix="tokui-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tokui.settings")
os.environ.setdefault("TOKUI_ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.core.signals import request_started  # noqa: E402
from django.db import connection, reset_queries, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from tokui.accounts.models import Account, Contact, account_scope  # noqa: E402
from tokui.activities.constants import (  # noqa: E402
    DIRECTED_KINDS,
    CallOutcome,
    InteractionKind,
)
from tokui.activities.models import Interaction  # noqa: E402
from tokui.activities.timeline import Cursor, account_timeline  # noqa: E402
from tokui.core.models import AuditEvent  # noqa: E402
from tokui.users.constants import Role  # noqa: E402
from tokui.users.models import User  # noqa: E402
from tokui.web.seed import seed  # noqa: E402

# Django clears the query log when a request starts; keep it so queries per page can be counted.
request_started.disconnect(reset_queries)

BENCH_ACCOUNT = "株式会社タイムライン検証"


def measure(fn: Callable[[], object], repeat: int) -> tuple[float, float, int]:
    fn()  # warm up
    with CaptureQueriesContext(connection) as queries:
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    return statistics.median(times), p95, len(queries.captured_queries)


@transaction.atomic
def _fill(account: Account, author: User, *, interactions: int, events: int) -> None:
    """Bulk rows shaped like a busy key account's decade: calls, meetings, mail, notes."""
    rng = random.Random(4)
    contacts = list(Contact.objects.filter(account=account)[:5])
    now = timezone.now()
    kinds = list(InteractionKind.values)
    rows = []
    for n in range(interactions):
        kind = rng.choice(kinds)
        call = kind == InteractionKind.CALL
        rows.append(
            Interaction(
                account=account,
                kind=kind,
                direction=rng.choice(("in", "out")) if kind in DIRECTED_KINDS else "",
                author=author,
                # Several entries share a minute, as they do when mail is fetched in batches.
                occurred_at=now - datetime.timedelta(minutes=rng.randint(1, 60 * 24 * 3650)),
                subject=f"件名 {n}",
                body="**打合せ**メモ\n- 価格\n- 納期" if kind == "note" else "本文です。",
                duration_seconds=rng.randint(30, 1800) if call else None,
                outcome=rng.choice(CallOutcome.values) if call else "",
            )
        )
    made = Interaction.objects.bulk_create(rows, batch_size=2000)
    through = Interaction.contacts.through
    if contacts:
        through.objects.bulk_create(
            [
                through(interaction_id=i.pk, contact_id=rng.choice(contacts).pk)
                for i in made
                if rng.random() < 0.7
            ],
            batch_size=5000,
        )
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                at=now - datetime.timedelta(minutes=rng.randint(1, 60 * 24 * 3650)),
                actor=author,
                action="accounts.account.updated",
                target_type="accounts.account",
                target_id=str(account.pk),
                target_repr=account.name,
                scope=account_scope(account.pk),
                changes={"industry": ["卸売業", "製造業"]},
            )
            for _ in range(events)
        ],
        batch_size=5000,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=3_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    out = sys.stdout
    started = time.perf_counter()
    if Account.objects.count() < args.scale:  # a kept TOKUI_VAR_DIR is reused as it is
        seed(scale=args.scale)
    head = User.objects.filter(username="bench-head").first() or User.objects.create_user(
        "bench-head", password="x", role=Role.HEAD
    )
    account = Account.objects.filter(name=BENCH_ACCOUNT).first()
    if account is None:
        account = Account.objects.exclude(contacts=None).order_by("pk").first()
        assert account is not None, "seed made no accounts with contacts"
        Account.objects.filter(pk=account.pk).update(name=BENCH_ACCOUNT)
        _fill(account, head, interactions=args.interactions, events=args.events)
    interactions = Interaction.objects.filter(account=account).count()
    events = AuditEvent.objects.filter(scope=account_scope(account.pk)).count()
    out.write(
        f"database: {connection.vendor}; {Account.objects.count()} accounts; the bench account "
        f"has {interactions} interactions and {events} audit events "
        f"(ready in {time.perf_counter() - started:.0f} s)\n\n"
    )
    client = Client()
    client.force_login(head)
    # A cursor half-way down the timeline: a deep page.
    middle = (
        Interaction.objects.filter(account=account)
        .order_by("-occurred_at", "-id")
        .values_list("occurred_at", "id")[interactions // 2]
    )
    deep = Cursor(middle[0], "interaction", middle[1]).encode()

    def selector(cursor: str | None = None, kinds: frozenset[str] | None = None) -> Callable:
        return lambda: account_timeline(viewer=head, account=account, kinds=kinds, cursor=cursor)

    def get(url: str, htmx: bool = False) -> Callable[[], object]:
        headers = {"HX-Request": "true"} if htmx else {}

        def run() -> object:
            response = client.get(url, headers=headers)
            assert response.status_code == 200, (url, response.status_code)
            return response

        return run

    fragment = f"/accounts/{account.pk}/timeline/"
    api = f"/api/v1/accounts/{account.pk}/timeline"
    rows = []
    baseline = measure(
        lambda: list(Interaction.objects.filter(account=account).order_by("pk")[:20]),
        args.repeat,
    )
    rows.append(("baseline: ORM, 20 interactions by pk", baseline, None))
    scenarios: list[tuple[str, Callable[[], object], float | None]] = [
        ("selector: first page", selector(), 50),
        ("selector: deep page (cursor)", selector(deep), 50),
        ("selector: calls only, first page", selector(kinds=frozenset({"call"})), 50),
        ("selector: changes only, deep", selector(deep, frozenset({"changes"})), 50),
        ("htmx fragment: first page", get(fragment, htmx=True), None),
        ("htmx fragment: deep page", get(f"{fragment}?cursor={deep}", htmx=True), None),
        ("API: first page", get(api), None),
        ("API: deep page", get(f"{api}?cursor={deep}"), None),
        ("account page (all sections)", get(f"/accounts/{account.pk}/"), None),
    ]
    for name, fn, target in scenarios:
        rows.append((name, measure(fn, args.repeat), target))

    out.write(f"{'scenario':40} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'×base':>7}  target\n")
    for name, (p50, p95, queries), target in rows:
        verdict = (
            "" if target is None else (f"< {target} ms " + ("ok" if p95 < target else "MISSED"))
        )
        out.write(
            f"{name:40} {p50:8.2f} {p95:8.2f} {queries:8d} {p95 / baseline[1]:7.1f}  {verdict}\n"
        )


if __name__ == "__main__":
    main()
