"""Two people saving overlapping default price lists at the same moment: exactly one wins.

Runs on PostgreSQL only (``make test`` runs the suite there too): SQLite serialises write
transactions, and the in-memory test database is a single connection.
"""

import datetime
import threading
import time

import pytest
from django.db import connection

from tokui.catalog import services
from tokui.catalog.models import PriceList
from tokui.core.exceptions import ApplicationError

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs two real connections (PostgreSQL)"
    ),
]


def _slow_check(monkeypatch):
    """Widen the window between the overlap check and the insert, as a slow request would."""
    original = services.price_list_clean_data

    def slow(**kwargs):
        clean = original(**kwargs)
        time.sleep(0.3)
        return clean

    monkeypatch.setattr(services, "price_list_clean_data", slow)


def _race(calls):
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(call):
        try:
            barrier.wait()
            results.append(call())
        except ApplicationError as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


def test_two_overlapping_default_lists_created_at_once_one_wins(head, monkeypatch):
    _slow_check(monkeypatch)
    start = datetime.date(2026, 4, 1)

    def create(name):
        return lambda: services.price_list_create(
            actor=head,
            data={"name": name, "currency": "JPY", "valid_from": start, "is_default": True},
        )

    results, errors = _race([create("標準価格A"), create("標準価格B")])

    assert len(results) == 1 and len(errors) == 1
    assert "valid_from" in errors[0].errors
    assert "may not overlap" in errors[0].errors["valid_from"][0]
    assert PriceList.objects.filter(is_default=True, currency="JPY").count() == 1


def test_update_racing_a_create_cannot_make_them_overlap(head, monkeypatch):
    # A non-default list becomes default while another default list is created for the same days.
    draft = services.price_list_create(
        actor=head,
        data={"name": "2027年度", "currency": "USD", "valid_from": datetime.date(2027, 4, 1)},
    )
    _slow_check(monkeypatch)

    def promote():
        return services.price_list_update(
            actor=head, price_list=draft, data={"is_default": True}, version=draft.version
        )

    def create():
        return services.price_list_create(
            actor=head,
            data={
                "name": "USD standard",
                "currency": "USD",
                "valid_from": datetime.date(2027, 1, 1),
                "is_default": True,
            },
        )

    results, errors = _race([promote, create])

    assert len(results) == 1 and len(errors) == 1
    assert "may not overlap" in errors[0].errors["valid_from"][0]
    assert PriceList.objects.filter(is_default=True, currency="USD").count() == 1
