"""Document numbers per series and year: Q-2026-0001 (quotes), and the order side's series.

The counter row is taken under a row lock (``select_for_update``; on SQLite the write
transaction serialises), so two documents never get one number; a number is used only if the
document's transaction commits (a rolled-back one leaves a gap, never a duplicate).
"""

from django.db import IntegrityError, transaction

from tokui.orders.models import DocumentCounter


def next_document_number(series: str, year: int, *, digits: int = 4) -> str:
    """The next ``<series>-<year>-<n>`` (``n`` zero-padded to ``digits``). Call it inside the
    transaction that creates the document."""
    counters = DocumentCounter.objects.select_for_update()
    counter = counters.filter(series=series, year=year).first()
    if counter is None:
        try:
            with transaction.atomic():
                DocumentCounter.objects.create(series=series, year=year, last=0)
        except IntegrityError:
            pass  # another transaction created the year's counter first
        counter = counters.get(series=series, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{series}-{year}-{counter.last:0{digits}d}"
