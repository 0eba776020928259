"""Risk screening of counterparties (与信・反社チェック): the policy, its reads and its one write.

The policy is a pure function, ``screening_status``: given the kind of account, the latest check
of each kind and today's date it says how worried to be (ok / info / warning / danger) and why,
in sentences a person can act on. Everything else here feeds it:

- selectors compute flags for a whole page of accounts in one query (the latest check per kind
  comes from a window function), and find the accounts that need screening in SQL with the same
  rules, so the dashboard can count them without loading them;
- ``screening_check_record`` records a check with its evidence files. Checks are never edited or
  deleted: a new check of the same kind supersedes the old one, which stays as the trail.
"""

import datetime
import os
import re
import unicodedata
import uuid
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any, Protocol

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tokui.accounts.constants import AccountKind, ScreeningKind, ScreeningResult
from tokui.accounts.models import Account, ScreeningCheck, ScreeningEvidence, account_scope
from tokui.core.audit import audit_record, diff, snapshot
from tokui.core.exceptions import ApplicationError, NotFound, PermissionDenied
from tokui.core.validation import ErrorCollector, check_plain_text, check_text_fields
from tokui.users.models import User

# ---------------------------------------------------------------------------------------------
# The policy
# ---------------------------------------------------------------------------------------------

# Counterparties we do business with must be screened before (and while) we do.
SCREENED_ACCOUNT_KINDS = frozenset(
    {AccountKind.CLIENT, AccountKind.PARTNER, AccountKind.CONTRACTOR}
)
# Prospects are not yet counterparties: their state is shown as information, not as a red flag.
INFORMATIONAL_ACCOUNT_KINDS = frozenset({AccountKind.PROSPECT})
# Competitors are never screened (AccountKind.COMPETITOR is in neither set).

# Every one of these is required; the latest check of each kind decides.
REQUIRED_CHECKS: tuple[str, ...] = (
    ScreeningKind.ANTISOCIAL_COMPANY,
    ScreeningKind.ANTISOCIAL_REPRESENTATIVE,
    ScreeningKind.CREDIT,
    ScreeningKind.REGISTRY,
)

# How long a passed check holds when the person recording it gives no re-check date.
DEFAULT_RECHECK_YEARS = 1
# A re-check date further ahead than this is most likely a typo (2062 for 2026).
MAX_RECHECK_YEARS = 5

# Evidence files: how many per check, how large, and which types (by extension and content).
MAX_EVIDENCE_FILES = 5
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
EVIDENCE_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
# The largest credit limit the column holds (15 digits, yen have no minor unit).
MAX_CREDIT_LIMIT = Decimal(10**15 - 1)


class ScreeningLevel:
    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    DANGER = "danger"


class CheckState:
    """Where one kind of check stands, from its latest record."""

    PASSED = "passed"
    MISSING = "missing"
    FAILED = "failed"
    PENDING = "pending"
    EXPIRED = "expired"
    NO_LIMIT = "no_limit"  # a passed credit check without a credit limit


# How each state reads in a table cell.
STATE_LABELS = {
    CheckState.PASSED: gettext_lazy("Passed"),
    CheckState.MISSING: gettext_lazy("Not on record"),
    CheckState.FAILED: gettext_lazy("Failed"),
    CheckState.PENDING: gettext_lazy("Pending"),
    CheckState.EXPIRED: gettext_lazy("Expired"),
    CheckState.NO_LIMIT: gettext_lazy("No credit limit"),
}

# The checks as they read inside a sentence ("No credit check on record.").
CHECK_NAMES = {
    ScreeningKind.ANTISOCIAL_COMPANY: gettext_lazy("anti-social forces check of the company"),
    ScreeningKind.ANTISOCIAL_REPRESENTATIVE: gettext_lazy(
        "anti-social forces check of the representative"
    ),
    ScreeningKind.CREDIT: gettext_lazy("credit check"),
    ScreeningKind.REGISTRY: gettext_lazy("registry check"),
}


class CheckLike(Protocol):
    """What the policy reads from a check: a ScreeningCheck, or anything shaped like one."""

    result: str
    checked_at: datetime.datetime
    recheck_due: datetime.date | None
    credit_limit: Decimal | None


@dataclass(frozen=True)
class ScreeningFlag:
    """An account's screening state: a level, a short label and the reasons, in words."""

    level: str
    label: str = ""
    reasons: tuple[str, ...] = ()
    required: bool = True  # False for competitors: nothing to flag, ever

    @property
    def shows_badge(self) -> bool:
        return self.level != ScreeningLevel.OK

    @property
    def is_flagged(self) -> bool:
        """Warning or danger: the account needs someone to act."""
        return self.level in (ScreeningLevel.WARNING, ScreeningLevel.DANGER)

    @property
    def summary(self) -> str:
        return " ".join(self.reasons)

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "label": self.label,
            "reasons": list(self.reasons),
            "required": self.required,
        }


def _day(value: datetime.date) -> str:
    return date_format(value, "DATE_FORMAT")


def _checked_on(check: CheckLike) -> datetime.date:
    at = check.checked_at
    if isinstance(at, datetime.datetime):
        return timezone.localdate(at) if timezone.is_aware(at) else at.date()
    return at


def check_state(kind: str, check: CheckLike | None, today: datetime.date) -> str:
    """Where one kind of check stands: passed, missing, failed, pending, expired or no_limit."""
    if check is None:
        return CheckState.MISSING
    if check.result == ScreeningResult.FAILED:
        return CheckState.FAILED
    if check.result == ScreeningResult.PENDING:
        return CheckState.PENDING
    if check.result != ScreeningResult.PASSED:
        return CheckState.MISSING
    if check.recheck_due is not None and check.recheck_due < today:
        return CheckState.EXPIRED
    if kind == ScreeningKind.CREDIT and check.credit_limit is None:
        return CheckState.NO_LIMIT
    return CheckState.PASSED


def check_reason(kind: str, state: str, check: CheckLike | None) -> str:
    """The sentence that explains a state which is not ``passed`` (empty when it is)."""
    name = CHECK_NAMES.get(kind, kind)  # type: ignore[call-overload]
    if state == CheckState.MISSING or check is None:
        return _("No %(check)s on record.") % {"check": name}
    if state == CheckState.FAILED:
        who = getattr(check, "checked_by", None)
        if who:
            text = _("%(check)s failed on %(date)s by %(who)s.") % {
                "check": name,
                "date": _day(_checked_on(check)),
                "who": who,
            }
        else:
            text = _("%(check)s failed on %(date)s.") % {
                "check": name,
                "date": _day(_checked_on(check)),
            }
        return capfirst(text)
    if state == CheckState.PENDING:
        return capfirst(
            _("%(check)s pending since %(date)s.")
            % {"check": name, "date": _day(_checked_on(check))}
        )
    if state == CheckState.EXPIRED and check.recheck_due is not None:
        return capfirst(
            _("%(check)s expired on %(date)s.") % {"check": name, "date": _day(check.recheck_due)}
        )
    if state == CheckState.NO_LIMIT:
        return _("The credit check has no credit limit.")
    return ""


def screening_status(
    kind_of_account: str,
    latest_checks_by_kind: Mapping[str, CheckLike],
    today: datetime.date,
) -> ScreeningFlag:
    """The screening flag of an account of ``kind_of_account`` (pure: no database, no clock).

    - competitors: never screened, never flagged;
    - clients, partners, contractors: every required check must be passed, current (re-check
      date not before ``today``) and, for the credit check, carry a credit limit. A failed check
      is *danger*; missing, pending, expired or limit-less checks are a *warning*;
    - prospects: what is missing is *info* ("not screened yet"); a failed check is still
      *danger*, because it is what a person must know before doing business with them.
    """
    if kind_of_account not in SCREENED_ACCOUNT_KINDS | INFORMATIONAL_ACCOUNT_KINDS:
        return ScreeningFlag(level=ScreeningLevel.OK, required=False)
    states = {
        kind: check_state(kind, latest_checks_by_kind.get(kind), today) for kind in REQUIRED_CHECKS
    }
    # Failures first: they are what a person must read.
    problems = sorted(
        (kind for kind in REQUIRED_CHECKS if states[kind] != CheckState.PASSED),
        key=lambda kind: states[kind] != CheckState.FAILED,
    )
    if not problems:
        return ScreeningFlag(level=ScreeningLevel.OK, label=_("Screened"))
    found = {states[kind] for kind in problems}
    reasons = tuple(
        check_reason(kind, states[kind], latest_checks_by_kind.get(kind)) for kind in problems
    )
    if CheckState.FAILED in found:
        return ScreeningFlag(
            level=ScreeningLevel.DANGER, label=_("Screening failed"), reasons=reasons
        )
    if kind_of_account in INFORMATIONAL_ACCOUNT_KINDS:
        if not any(latest_checks_by_kind.get(kind) for kind in REQUIRED_CHECKS):
            return ScreeningFlag(
                level=ScreeningLevel.INFO,
                label=_("Not screened yet"),
                reasons=(
                    _("No checks on record yet: screen this prospect before it becomes a client."),
                ),
            )
        return ScreeningFlag(
            level=ScreeningLevel.INFO, label=_("Screening incomplete"), reasons=reasons
        )
    if found & {CheckState.MISSING, CheckState.NO_LIMIT}:
        label = _("Screening incomplete")
    elif CheckState.EXPIRED in found:
        label = _("Screening expired")
    else:
        label = _("Screening pending")
    return ScreeningFlag(level=ScreeningLevel.WARNING, label=label, reasons=reasons)


def default_recheck_due(today: datetime.date) -> datetime.date:
    """One year after ``today`` (29 February becomes 28 February)."""
    try:
        return today.replace(year=today.year + DEFAULT_RECHECK_YEARS)
    except ValueError:
        return today.replace(year=today.year + DEFAULT_RECHECK_YEARS, day=28)


def screening_may_record(user: Any) -> bool:
    """Admins, heads, KAMs and AMs record checks; the service department reads them."""
    return bool(getattr(user, "may_edit_accounts", False))


# ---------------------------------------------------------------------------------------------
# Selectors
# ---------------------------------------------------------------------------------------------


def _latest_checks(account_ids: Iterable[int]) -> QuerySet[ScreeningCheck]:
    """The latest check of each kind for each account, in one query (a window function)."""
    return (
        ScreeningCheck.objects.filter(account_id__in=list(account_ids))
        .annotate(
            latest_rank=Window(
                RowNumber(),
                partition_by=[F("account_id"), F("kind")],
                order_by=[F("checked_at").desc(), F("id").desc()],
            )
        )
        .filter(latest_rank=1)
        .select_related("checked_by")
        .order_by()
    )


def screening_flags_for(
    accounts: Iterable[Account], *, today: datetime.date | None = None
) -> dict[int, ScreeningFlag]:
    """Flags for a page of accounts, keyed by account id: one query, whatever the page size.

    ``accounts`` come from a selector that already applied what the viewer may see.
    """
    today = today or timezone.localdate()
    accounts = list(accounts)
    wanted = [a.pk for a in accounts if a.kind != AccountKind.COMPETITOR]
    latest: dict[int, dict[str, ScreeningCheck]] = {}
    if wanted:
        # Every check of the page's accounts, newest first; the first of each kind wins. An
        # account has a handful of checks, and this plain query compiles in a fraction of the
        # time of _latest_checks's window function, which a list page pays on every request.
        newest_first = (
            ScreeningCheck.objects.filter(account_id__in=wanted)
            .select_related("checked_by")
            .order_by("-checked_at", "-id")
        )
        for check in newest_first:
            latest.setdefault(check.account_id, {}).setdefault(check.kind, check)
    # Accounts of one kind with no checks at all share one (immutable) flag: on a page of
    # unscreened prospects that saves composing the same translated sentences fifty times.
    unscreened: dict[str, ScreeningFlag] = {}
    flags: dict[int, ScreeningFlag] = {}
    for account in accounts:
        checks = latest.get(account.pk)
        if checks:
            flags[account.pk] = screening_status(account.kind, checks, today)
            continue
        if account.kind not in unscreened:
            unscreened[account.kind] = screening_status(account.kind, {}, today)
        flags[account.pk] = unscreened[account.kind]
    return flags


def screening_flags_attach(
    accounts: Iterable[Account], *, today: datetime.date | None = None
) -> dict[int, ScreeningFlag]:
    """Compute the page's flags (one query) and set ``account.screening_flag`` on each row."""
    accounts = list(accounts)
    flags = screening_flags_for(accounts, today=today)
    for account in accounts:
        account.screening_flag = flags[account.pk]  # type: ignore[attr-defined]
    return flags


def screening_flag_of(account: Account, *, today: datetime.date | None = None) -> ScreeningFlag:
    """One account's flag: the one already attached to it, or computed now (one query)."""
    flag = getattr(account, "screening_flag", None)
    if isinstance(flag, ScreeningFlag):
        return flag
    return screening_flags_attach([account], today=today)[account.pk]


def _current_checks() -> QuerySet[ScreeningCheck]:
    """For the outer account (``OuterRef("pk")``): the latest check of each required kind."""
    latest_of_kind = (
        ScreeningCheck.objects.filter(account_id=OuterRef("account_id"), kind=OuterRef("kind"))
        .order_by("-checked_at", "-id")
        .values("pk")[:1]
    )
    return ScreeningCheck.objects.filter(
        account_id=OuterRef("pk"), kind__in=REQUIRED_CHECKS, pk=Subquery(latest_of_kind)
    )


def screening_attention_list(
    *, viewer: User, today: datetime.date | None = None
) -> QuerySet[Account]:
    """Current counterparties whose screening is failed, missing, pending or expired.

    The same rules as ``screening_status`` for clients, partners and contractors, in SQL, so a
    count or a page costs one query however many accounts there are. Failed ones come first.
    """
    today = today or timezone.localdate()
    good = (
        _current_checks()
        .filter(result=ScreeningResult.PASSED)
        .filter(Q(recheck_due__isnull=True) | Q(recheck_due__gte=today))
        .exclude(kind=ScreeningKind.CREDIT, credit_limit__isnull=True)
    )
    good_count = good.order_by().values("account_id").annotate(n=Count("pk")).values("n")
    failed = _current_checks().filter(result=ScreeningResult.FAILED)
    return (
        Account.objects.visible_to(viewer)
        .filter(archived_at__isnull=True, kind__in=SCREENED_ACCOUNT_KINDS)
        .annotate(screening_good=Coalesce(Subquery(good_count), 0))
        .filter(screening_good__lt=len(REQUIRED_CHECKS))
        .annotate(screening_failed=Exists(failed))
        .select_related("owner")
        .order_by("-screening_failed", "sort_key", "id")
    )


def screening_attention_summary(
    *, viewer: User, limit: int = 10, today: datetime.date | None = None
) -> tuple[list[Account], int]:
    """The first ``limit`` accounts needing screening (flags attached) and how many there are."""
    attention = screening_attention_list(viewer=viewer, today=today)
    first = list(attention[:limit])
    total = len(first) if len(first) < limit else attention.count()
    screening_flags_attach(first, today=today)
    return first, total


@dataclass
class ScreeningRow:
    """One required kind of check on the account page: its latest record and where it stands."""

    kind: str
    label: str
    check: ScreeningCheck | None
    state: str
    reason: str

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS.get(self.state, self.state))


@dataclass
class ScreeningOverview:
    flag: ScreeningFlag
    rows: list[ScreeningRow]
    earlier: list[ScreeningCheck] = field(default_factory=list)
    may_record: bool = False


def screening_overview(
    *, viewer: User, account: Account, today: datetime.date | None = None
) -> ScreeningOverview:
    """The account's screening: its flag, the latest check of each kind (with evidence) and the
    checks they superseded. ``account`` must be visible to ``viewer`` (else nothing is shown)."""
    today = today or timezone.localdate()
    visible = Account.objects.visible_to(viewer)
    latest_qs = _latest_checks([account.pk]).filter(account__in=visible)
    latest = {c.kind: c for c in latest_qs.prefetch_related("evidence")}
    flag = screening_status(account.kind, latest, today)
    rows = []
    for kind in REQUIRED_CHECKS:
        check = latest.get(kind)
        state = check_state(kind, check, today)
        reason = "" if state == CheckState.PASSED else check_reason(kind, state, check)
        rows.append(
            ScreeningRow(
                kind=kind,
                label=str(ScreeningKind(kind).label),
                check=check,
                state=state,
                reason=reason,
            )
        )
    earlier = list(
        ScreeningCheck.objects.filter(account=account, account__in=visible)
        .exclude(pk__in=[c.pk for c in latest.values()])
        .select_related("checked_by")
        .order_by("-checked_at", "-id")[:50]
    )
    return ScreeningOverview(
        flag=flag,
        rows=rows,
        earlier=earlier,
        may_record=screening_may_record(viewer) and not account.is_archived,
    )


def screening_latest(*, viewer: User, account: Account) -> dict[str, ScreeningCheck]:
    """The latest check of each kind, with evidence; ``account`` must be visible to ``viewer``."""
    qs = _latest_checks([account.pk]).filter(account__in=Account.objects.visible_to(viewer))
    return {c.kind: c for c in qs.prefetch_related("evidence")}


def screening_check_get(*, viewer: User, check_id: int) -> ScreeningCheck:
    """One check with its evidence; ``superseded`` tells whether a later one of its kind exists."""
    later = ScreeningCheck.objects.filter(
        account_id=OuterRef("account_id"), kind=OuterRef("kind")
    ).filter(
        Q(checked_at__gt=OuterRef("checked_at"))
        | Q(checked_at=OuterRef("checked_at"), pk__gt=OuterRef("pk"))
    )
    check = (
        ScreeningCheck.objects.filter(account__in=Account.objects.visible_to(viewer))
        .annotate(superseded=Exists(later))
        .select_related("account", "account__owner", "checked_by")
        .prefetch_related("evidence")
        .filter(pk=check_id)
        .first()
    )
    if check is None:
        raise NotFound(_("No such screening check."))
    return check


def screening_evidence_get(*, viewer: User, evidence_id: int) -> ScreeningEvidence:
    """An evidence file of a check on an account the viewer may see; anything else is a 404."""
    evidence = (
        ScreeningEvidence.objects.filter(
            screening_check__account__in=Account.objects.visible_to(viewer)
        )
        .select_related("screening_check")
        .filter(pk=evidence_id)
        .first()
    )
    if evidence is None:
        raise NotFound(_("No such file."))
    return evidence


def evidence_content_type(name: str) -> str:
    return EVIDENCE_TYPES.get(os.path.splitext(name)[1].lower(), "application/octet-stream")


# ---------------------------------------------------------------------------------------------
# The write
# ---------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TYPE_NAMES = {
    ".pdf": "PDF",
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".xlsx": "XLSX",
    ".docx": "DOCX",
}
# The part an Office Open XML file of each kind cannot do without.
_OOXML_MAIN_PART = {".xlsx": "xl/workbook.xml", ".docx": "word/document.xml"}


def _original_name(name: str) -> str:
    """The file's own name as the uploader saw it: no folders, no control characters, NFC
    (macOS sends decomposed kana), at most 255 characters with the extension kept."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = _CONTROL.sub("", unicodedata.normalize("NFC", base)).strip() or "file"
    if len(base) > 255:
        stem, ext = os.path.splitext(base)
        base = stem[: 255 - len(ext)] + ext[:20]
    return base[:255]


def _read_head(file: IO[bytes], size: int = 16) -> bytes:
    file.seek(0)
    head = file.read(size)
    file.seek(0)
    return head or b""


def _content_matches(ext: str, file: IO[bytes]) -> bool:
    """Whether the first bytes (and, for XLSX and DOCX, the zip's parts) match the extension."""
    head = _read_head(file)
    if ext == ".pdf":
        return head.startswith(b"%PDF-")
    if ext == ".png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if ext in (".jpg", ".jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if ext in (".tif", ".tiff"):
        return head[:4] in (b"II*\x00", b"MM\x00*")
    if ext in _OOXML_MAIN_PART:
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(file) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return False
        finally:
            file.seek(0)
        return "[Content_Types].xml" in names and _OOXML_MAIN_PART[ext] in names
    return False


def _check_files(
    files: Sequence[UploadedFile], errors: ErrorCollector
) -> list[tuple[UploadedFile, str, str]]:
    """Validate every evidence file; returns (file, original name, extension) for each."""
    if len(files) > MAX_EVIDENCE_FILES:
        errors.add(
            "files",
            _("Attach at most %(max)d files to one check (you chose %(n)d).")
            % {"max": MAX_EVIDENCE_FILES, "n": len(files)},
        )
        return []
    accepted = []
    for upload in files:
        name = _original_name(getattr(upload, "name", "") or "")
        ext = os.path.splitext(name)[1].lower()
        size = getattr(upload, "size", None) or 0
        if ext not in EVIDENCE_TYPES:
            errors.add(
                "files",
                _(
                    "“%(name)s” is not a file type we keep as evidence: attach PDF, PNG, JPEG, "
                    "TIFF, XLSX or DOCX files."
                )
                % {"name": name},
            )
        elif size > MAX_EVIDENCE_BYTES:
            errors.add(
                "files",
                _("“%(name)s” is larger than %(mb)d MB: attach a smaller file.")
                % {"name": name, "mb": MAX_EVIDENCE_BYTES // (1024 * 1024)},
            )
        elif size == 0:
            errors.add("files", _("“%(name)s” is empty.") % {"name": name})
        elif not _content_matches(ext, upload):
            errors.add(
                "files",
                _("“%(name)s” is not really a %(type)s file: its content is something else.")
                % {"name": name, "type": _TYPE_NAMES[ext]},
            )
        else:
            accepted.append((upload, name, ext))
    return accepted


def _clean_credit_limit(value: Any, errors: ErrorCollector) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        errors.add("credit_limit", _("Enter the credit limit as a number of yen."))
        return None
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        errors.add("credit_limit", _("Enter the credit limit as a number of yen."))
        return None
    if not number.is_finite() or number != number.to_integral_value():
        errors.add("credit_limit", _("Enter the credit limit in whole yen."))
        return None
    if number < 0:
        errors.add("credit_limit", _("A credit limit cannot be negative."))
        return None
    if number > MAX_CREDIT_LIMIT:
        errors.add("credit_limit", _("This credit limit is too large."))
        return None
    return number.quantize(Decimal(1))


_RECORDED_FIELDS = ("kind", "result", "subject", "credit_limit", "source", "recheck_due", "notes")


@transaction.atomic
def screening_check_record(
    *,
    actor: User,
    account: Account,
    kind: str,
    result: str,
    subject: str = "",
    credit_limit: Decimal | int | None = None,
    source: str = "",
    recheck_due: datetime.date | None = None,
    notes: str = "",
    files: Sequence[UploadedFile] = (),
) -> ScreeningCheck:
    """Record one screening check of ``account`` by ``actor`` now, with its evidence files.

    Every problem is reported at once and nothing (no row, no file) is kept when there is one.
    A passed check without a re-check date holds for one year. Side effects: the files are
    written through Django's storage; one audit event in the account's scope.
    """
    if not screening_may_record(actor):
        raise PermissionDenied(_("Your role can read screening checks but not record them."))
    locked = Account.objects.visible_to(actor).select_for_update().filter(pk=account.pk).first()
    if locked is None:
        raise NotFound(_("No such account."))
    account = locked
    if account.is_archived:
        raise ApplicationError(_("This account is archived: restore it before recording checks."))

    errors = ErrorCollector()
    text = {"subject": subject or "", "source": source or "", "notes": notes or ""}
    check_text_fields(ScreeningCheck, text, errors)
    text = {k: v.strip() for k, v in text.items()}
    check_plain_text("notes", text["notes"], errors)
    if kind not in ScreeningKind.values:
        errors.add("kind", _("Choose one of: %(v)s.") % {"v": ", ".join(ScreeningKind.values)})
    if result not in ScreeningResult.values:
        errors.add("result", _("Choose one of: %(v)s.") % {"v": ", ".join(ScreeningResult.values)})
    limit = _clean_credit_limit(credit_limit, errors)
    if limit is not None and kind != ScreeningKind.CREDIT:
        errors.add("credit_limit", _("Only a credit check has a credit limit."))
    if (
        kind == ScreeningKind.CREDIT
        and result == ScreeningResult.PASSED
        and limit is None
        and "credit_limit" not in errors.errors
    ):
        errors.add("credit_limit", _("Enter the credit limit this check allows."))
    today = timezone.localdate()
    if recheck_due is not None and not isinstance(recheck_due, datetime.date):
        errors.add("recheck_due", _("Enter a date."))
        recheck_due = None
    if isinstance(recheck_due, datetime.datetime):
        recheck_due = recheck_due.date()
    if result == ScreeningResult.PASSED:
        if recheck_due is None:
            recheck_due = default_recheck_due(today)
        elif recheck_due < today:
            errors.add(
                "recheck_due",
                _("A passed check cannot be due for a re-check in the past (%(date)s).")
                % {"date": recheck_due.isoformat()},
            )
    if recheck_due is not None and recheck_due.year > today.year + MAX_RECHECK_YEARS:
        errors.add(
            "recheck_due",
            _("A re-check more than %(n)d years ahead is most likely a typo.")
            % {"n": MAX_RECHECK_YEARS},
        )
    uploads = _check_files(list(files or ()), errors)
    errors.raise_if_any()

    check = ScreeningCheck.objects.create(
        account=account,
        kind=kind,
        result=result,
        subject=text["subject"],
        credit_limit=limit,
        source=text["source"],
        checked_by=actor,
        checked_at=timezone.now(),
        recheck_due=recheck_due,
        notes=text["notes"],
    )
    stored: list[str] = []
    try:
        for upload, name, ext in uploads:
            evidence = ScreeningEvidence(
                screening_check=check, original_name=name, uploaded_by=actor
            )
            upload.seek(0)
            evidence.file.save(f"{uuid.uuid4().hex}{ext}", upload, save=False)
            stored.append(evidence.file.name or "")
            evidence.save()
    except BaseException:
        # The rows roll back with the transaction; the files must go by hand.
        storage = ScreeningEvidence._meta.get_field("file").storage  # type: ignore[union-attr]
        for path in stored:
            storage.delete(path)
        raise
    changes = {
        name: pair
        for name, pair in diff({}, snapshot(check, _RECORDED_FIELDS)).items()
        if pair[1] not in (None, "")
    }
    if uploads:
        changes["evidence"] = [None, ", ".join(name for _upload, name, _ext in uploads)]
    audit_record(
        actor=actor,
        action="accounts.screening.recorded",
        target=check,
        changes=changes,
        scope=account_scope(account.pk),
    )
    return check
