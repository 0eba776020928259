"""Demo risk screening (与信・反社チェック) for the demo customer book.

Most clients, partners and contractors have a full, current set of checks from the sources a
Japanese sales back office really uses; some are past their re-check date (due last month), a few
failed or are waiting for a report, a few were never done, so every flag shows up for ``kam``.
A few prospects were screened ahead of their first order.

Checks are back-dated (a year of history), which the recording service rightly refuses, so they
are written directly here, with the audit events entering them into Tokui would have left.
Deterministic (``random.Random``) and idempotent: nothing happens when any screening check exists.
"""

import datetime
import random
from decimal import Decimal
from typing import Any, Protocol

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from tokui.accounts.constants import AccountKind, AccountTier, ScreeningKind, ScreeningResult
from tokui.accounts.models import Account, ScreeningCheck, ScreeningEvidence, account_scope
from tokui.accounts.screening import REQUIRED_CHECKS, SCREENED_ACCOUNT_KINDS
from tokui.core.audit import diff, snapshot
from tokui.core.models import AuditEvent

SEED = 2029

# How a counterparty's screening stands, and how often each story occurs.
FULL, EXPIRED_ALL, EXPIRED_CREDIT, FAILED, PENDING, MISSING = (
    "full",
    "expired_all",
    "expired_credit",
    "failed",
    "pending",
    "missing",
)
_WEIGHTS = {
    FULL: 72,
    EXPIRED_ALL: 6,
    EXPIRED_CREDIT: 7,
    FAILED: 4,
    PENDING: 5,
    MISSING: 6,
}
# kam's book shows every flag, whatever the dice say.
_KAM_FIRST = (EXPIRED_CREDIT, FAILED, MISSING, PENDING, EXPIRED_ALL, MISSING, EXPIRED_CREDIT)

_CREDIT_LIMITS = (
    5_000_000,
    10_000_000,
    20_000_000,
    30_000_000,
    50_000_000,
    80_000_000,
    100_000_000,
)
_KEY_CREDIT_LIMITS = (100_000_000, 150_000_000, 200_000_000)
_CREDIT_SOURCES = ("帝国データバンク", "東京商工リサーチ")
_ANTISOCIAL_SOURCES = ("日経テレコン記事検索", "日経テレコン記事検索・Web検索")
_REGISTRY_SOURCE = "登記情報提供サービス"

_PASSED_NOTES = {
    ScreeningKind.ANTISOCIAL_COMPANY: (
        "商号・旧商号で記事検索。該当記事なし。",
        "商号・所在地で記事検索、反社関連の記事なし。",
    ),
    ScreeningKind.ANTISOCIAL_REPRESENTATIVE: (
        "代表者氏名で記事検索。該当記事なし。",
        "代表者・役員の氏名で記事検索、問題なし。",
    ),
    ScreeningKind.CREDIT: (
        "評点{score}。業績は安定、支払遅延の情報なし。",
        "評点{score}。増収増益、与信枠は年商の1%以内で設定。",
        "評点{score}。財務内容に懸念なし。",
    ),
    ScreeningKind.REGISTRY: (
        "履歴事項全部証明書で商号・本店・役員を確認。",
        "登記簿の本店所在地・代表者が取引申込書と一致。",
    ),
}


class _Writer(Protocol):
    def write(self, s: str, /) -> object: ...


def _tiny_pdf(title: str) -> bytes:
    """A one-page PDF that says what it stands for (ASCII only: no font needs embedding)."""
    text = title.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 14 Tf 72 760 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def _representative(account: Account) -> str:
    contacts = sorted(account.contacts.all(), key=lambda c: c.pk)
    if contacts:
        return f"代表取締役 {contacts[0].full_name}"
    return "代表取締役"


def _check(
    rng: random.Random,
    account: Account,
    kind: str,
    *,
    result: str,
    checked_at: datetime.datetime,
    recheck_due: datetime.date | None,
    notes: str = "",
) -> ScreeningCheck:
    limit = None
    if kind == ScreeningKind.CREDIT:
        source = rng.choice(_CREDIT_SOURCES)
        if result == ScreeningResult.PASSED:
            choices = _KEY_CREDIT_LIMITS if account.tier == AccountTier.KEY else _CREDIT_LIMITS
            limit = Decimal(rng.choice(choices))
    elif kind == ScreeningKind.REGISTRY:
        source = _REGISTRY_SOURCE
    else:
        source = rng.choice(_ANTISOCIAL_SOURCES)
    if kind == ScreeningKind.ANTISOCIAL_REPRESENTATIVE:
        subject = _representative(account)
    else:
        subject = account.name
    if not notes and result == ScreeningResult.PASSED:
        notes = rng.choice(_PASSED_NOTES[kind]).format(score=rng.randint(48, 72))
    return ScreeningCheck(
        account=account,
        kind=kind,
        result=result,
        subject=subject[:200],
        credit_limit=limit,
        source=source,
        checked_by=account.owner,
        checked_at=checked_at,
        recheck_due=recheck_due,
        notes=notes,
    )


def _plan_account(
    rng: random.Random, account: Account, story: str, *, now: datetime.datetime
) -> list[ScreeningCheck]:
    """The checks one counterparty has on record under ``story``."""
    today = timezone.localdate(now)
    passed = ScreeningResult.PASSED
    checks: list[ScreeningCheck] = []
    if story in (FULL, FAILED, PENDING, MISSING, EXPIRED_CREDIT):
        # The screening done when the account was opened, re-done within the last year.
        done = now - datetime.timedelta(days=rng.randint(20, 300), hours=rng.randint(0, 8))
        due = timezone.localdate(done) + datetime.timedelta(days=365)
    else:
        # Done 13 months ago and due for a re-check last month.
        due = today - datetime.timedelta(days=rng.randint(5, 30))
        done = timezone.make_aware(
            datetime.datetime.combine(due - datetime.timedelta(days=365), datetime.time(10, 30))
        )
    skip: set[str] = set()
    if story == MISSING:
        skip = rng.choice(
            (
                {ScreeningKind.REGISTRY},
                {ScreeningKind.ANTISOCIAL_REPRESENTATIVE},
                set(REQUIRED_CHECKS),
            )
        )
    for kind in REQUIRED_CHECKS:
        if kind in skip:
            continue
        checks.append(_check(rng, account, kind, result=passed, checked_at=done, recheck_due=due))
    recent = now - datetime.timedelta(days=rng.randint(2, 25), hours=rng.randint(0, 6))
    if story == EXPIRED_CREDIT:
        # Credit was reviewed on a shorter cycle than the rest and that review is now late.
        for check in checks:
            if check.kind == ScreeningKind.CREDIT:
                check.recheck_due = today - datetime.timedelta(days=rng.randint(5, 30))
    elif story == FAILED:
        kind = rng.choice((ScreeningKind.CREDIT, ScreeningKind.CREDIT, ScreeningKind.REGISTRY))
        notes = (
            "評点42。直近決算で債務超過、支払遅延の情報あり。取引は前払い条件でのみ可。"
            if kind == ScreeningKind.CREDIT
            else "登記上の本店所在地・代表者が取引申込書と不一致。先方に確認中。"
        )
        checks.append(
            _check(
                rng,
                account,
                kind,
                result=ScreeningResult.FAILED,
                checked_at=recent,
                recheck_due=None,
                notes=notes,
            )
        )
    elif story == PENDING:
        checks.append(
            _check(
                rng,
                account,
                ScreeningKind.CREDIT,
                result=ScreeningResult.PENDING,
                checked_at=recent,
                recheck_due=today + datetime.timedelta(days=14),
                notes="年次見直しのため企業調査レポートを依頼中（回答まで約2週間）。",
            )
        )
    return checks


@transaction.atomic
def demo_screening(*, stdout: _Writer | None = None) -> None:
    """Give the demo's counterparties a year of screening; a second call changes nothing."""
    if ScreeningCheck.objects.exists():
        return
    rng = random.Random(SEED)
    now = timezone.now()
    accounts = list(
        Account.objects.filter(kind__in=[*SCREENED_ACCOUNT_KINDS, AccountKind.PROSPECT])
        .select_related("owner")
        .prefetch_related("contacts")
        .order_by("id")
    )
    stories = list(_WEIGHTS)
    weights = list(_WEIGHTS.values())
    kam_first = list(_KAM_FIRST)
    planned: list[ScreeningCheck] = []
    counts: dict[str, int] = {}
    for account in accounts:
        if account.kind == AccountKind.PROSPECT:
            # A few prospects close to their first order are screened ahead of it.
            if rng.random() < 0.12:
                planned += _plan_account(rng, account, FULL, now=now)
            continue
        if account.owner.username == "kam" and account.archived_at is None and kam_first:
            story = kam_first.pop(0)
        else:
            story = rng.choices(stories, weights=weights)[0]
        counts[story] = counts.get(story, 0) + 1
        planned += _plan_account(rng, account, story, now=now)
    if not planned:
        return
    created = ScreeningCheck.objects.bulk_create(planned)
    evidence = _evidence(created)
    _audit(created, evidence)
    if stdout is not None:
        stdout.write(
            f"Demo: {len(created)} screening checks ({counts.get(FULL, 0)} counterparties fully "
            f"screened, {counts.get(EXPIRED_ALL, 0) + counts.get(EXPIRED_CREDIT, 0)} expired, "
            f"{counts.get(FAILED, 0)} failed, {counts.get(PENDING, 0)} pending, "
            f"{counts.get(MISSING, 0)} incomplete), {len(evidence)} evidence files.\n"
        )


_SOURCES_IN_LATIN = {
    "帝国データバンク": "Teikoku Databank",
    "東京商工リサーチ": "Tokyo Shoko Research",
    _REGISTRY_SOURCE: "Touki Joho Teikyo Service",
}
_EVIDENCE_TITLES = {
    ScreeningKind.CREDIT: ("企業調査報告書", "Credit report"),
    ScreeningKind.REGISTRY: ("履歴事項全部証明書", "Certificate of registered matters"),
}


def _evidence(checks: list[ScreeningCheck]) -> dict[int, list[str]]:
    """Evidence PDFs for the credit and registry checks of the accounts kam and am own."""
    names: dict[int, list[str]] = {}
    for check in checks:
        if check.kind not in _EVIDENCE_TITLES or check.result != ScreeningResult.PASSED:
            continue
        if check.account.owner.username not in ("kam", "am"):
            continue
        title_ja, title_en = _EVIDENCE_TITLES[check.kind]
        day = timezone.localdate(check.checked_at)
        name = f"{title_ja}_{check.account.name}_{day:%Y%m%d}.pdf"
        source = _SOURCES_IN_LATIN.get(check.source, "")
        pdf = _tiny_pdf(f"{title_en} (demo) - {source} - {day:%Y-%m-%d}")
        item = ScreeningEvidence(
            screening_check=check,
            original_name=name[:255],
            uploaded_by=check.checked_by,
            uploaded_at=check.checked_at,
        )
        item.file.save(f"demo-{check.pk}.pdf", ContentFile(pdf), save=False)
        item.save()
        names.setdefault(check.pk, []).append(item.original_name)
    return names


def _audit(checks: list[ScreeningCheck], evidence: dict[int, list[str]]) -> None:
    """The events entering the screening register into Tokui left: dated now, after the demo's
    accounts were created (the checks themselves keep their real, earlier dates)."""
    now = timezone.now()
    fields = ("kind", "result", "subject", "credit_limit", "source", "recheck_due", "notes")
    events = []
    for check in checks:
        changes: dict[str, Any] = {
            name: pair
            for name, pair in diff({}, snapshot(check, fields)).items()
            if pair[1] not in (None, "")
        }
        if check.pk in evidence:
            changes["evidence"] = [None, ", ".join(evidence[check.pk])]
        events.append(
            AuditEvent(
                at=now,
                actor=check.checked_by,
                action="accounts.screening.recorded",
                target_type=check._meta.label_lower,
                target_id=str(check.pk),
                target_repr=str(check)[:300],
                scope=account_scope(check.account_id),
                changes=changes,
            )
        )
    AuditEvent.objects.bulk_create(events, batch_size=500)
