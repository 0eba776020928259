"""Risk screening (与信・反社チェック): the policy, recording checks with evidence, the flags on
every page that shows an account, visibility of evidence, and the API."""

import datetime
import io
import json
import zipfile
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tokui.accounts.models import Account, ScreeningCheck, ScreeningEvidence
from tokui.accounts.screening import (
    MAX_EVIDENCE_BYTES,
    REQUIRED_CHECKS,
    ScreeningLevel,
    screening_attention_list,
    screening_check_record,
    screening_flags_for,
    screening_status,
)
from tokui.accounts.services import account_archive
from tokui.core.exceptions import ApplicationError, NotFound, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.users.services import api_token_create

TODAY = datetime.date(2026, 6, 1)
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
TIFF = b"II*\x00" + b"\x00" * 64


def _ooxml(main_part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(main_part, "<x/>")
    return buffer.getvalue()


XLSX = _ooxml("xl/workbook.xml")
DOCX = _ooxml("word/document.xml")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _stored_files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def _check(result="passed", *, days_ago=30, due=TODAY + datetime.timedelta(days=300), limit=None):
    at = timezone.make_aware(datetime.datetime.combine(TODAY, datetime.time(10)))
    return SimpleNamespace(
        result=result,
        checked_at=at - datetime.timedelta(days=days_ago),
        checked_by="上野 敬子",
        recheck_due=due,
        credit_limit=limit,
    )


def _all_passed(**overrides):
    checks = {kind: _check() for kind in REQUIRED_CHECKS}
    checks["credit"] = _check(limit=Decimal(50_000_000))
    checks.update(overrides)
    return checks


def _upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def _record_all(actor, account, **overrides):
    """A full, passed set of checks, through the service."""
    for kind in REQUIRED_CHECKS:
        data = {"kind": kind, "result": "passed", "source": "帝国データバンク"}
        if kind == "credit":
            data["credit_limit"] = Decimal(30_000_000)
        data.update(overrides.get(kind, {}))
        screening_check_record(actor=actor, account=account, **data)


# -- the policy (pure) ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["client", "partner", "contractor"])
def test_a_counterparty_with_every_check_passed_and_current_is_ok(kind):
    flag = screening_status(kind, _all_passed(), TODAY)
    assert flag.level == ScreeningLevel.OK
    assert flag.reasons == ()
    assert not flag.shows_badge


@pytest.mark.parametrize("kind", ["client", "partner", "contractor"])
def test_missing_checks_are_a_warning_naming_each_one(kind):
    flag = screening_status(kind, {}, TODAY)
    assert flag.level == ScreeningLevel.WARNING
    assert flag.label == "Screening incomplete"
    assert flag.reasons == (
        "No anti-social forces check of the company on record.",
        "No anti-social forces check of the representative on record.",
        "No credit check on record.",
        "No registry check on record.",
    )


def test_a_failed_check_is_danger_and_says_when_and_by_whom():
    checks = _all_passed(credit=_check("failed", days_ago=3))
    checks.pop("registry")
    flag = screening_status("client", checks, TODAY)
    assert flag.level == ScreeningLevel.DANGER
    assert flag.label == "Screening failed"
    assert flag.reasons[0] == "Credit check failed on May 29, 2026 by 上野 敬子."
    assert flag.reasons[1] == "No registry check on record."
    assert flag.is_flagged


def test_a_pending_check_is_a_warning():
    flag = screening_status("partner", _all_passed(registry=_check("pending", days_ago=1)), TODAY)
    assert flag.level == ScreeningLevel.WARNING
    assert flag.label == "Screening pending"
    assert flag.reasons == ("Registry check pending since May 31, 2026.",)


def test_a_check_past_its_recheck_date_is_expired_but_one_due_today_is_not():
    expired = _check(due=TODAY - datetime.timedelta(days=1))
    flag = screening_status("client", _all_passed(antisocial_company=expired), TODAY)
    assert flag.level == ScreeningLevel.WARNING
    assert flag.label == "Screening expired"
    assert flag.reasons == ("Anti-social forces check of the company expired on May 31, 2026.",)
    due_today = _check(due=TODAY)
    assert screening_status("client", _all_passed(antisocial_company=due_today), TODAY).level == (
        ScreeningLevel.OK
    )


def test_a_passed_credit_check_needs_a_credit_limit():
    flag = screening_status("client", _all_passed(credit=_check(limit=None)), TODAY)
    assert flag.level == ScreeningLevel.WARNING
    assert flag.reasons == ("The credit check has no credit limit.",)
    assert screening_status(
        "client", _all_passed(credit=_check(limit=Decimal(0))), TODAY
    ).level == (ScreeningLevel.OK)


def test_a_prospect_not_screened_is_information_not_a_red_flag():
    flag = screening_status("prospect", {}, TODAY)
    assert flag.level == ScreeningLevel.INFO
    assert flag.label == "Not screened yet"
    assert flag.shows_badge and not flag.is_flagged
    partial = screening_status("prospect", {"antisocial_company": _check()}, TODAY)
    assert partial.level == ScreeningLevel.INFO
    assert "No credit check on record." in partial.reasons
    assert screening_status("prospect", _all_passed(), TODAY).level == ScreeningLevel.OK


def test_a_prospect_that_failed_a_check_is_still_danger():
    flag = screening_status("prospect", {"antisocial_representative": _check("failed")}, TODAY)
    assert flag.level == ScreeningLevel.DANGER


def test_competitors_are_never_screened_or_flagged():
    flag = screening_status("competitor", {"credit": _check("failed")}, TODAY)
    assert flag.level == ScreeningLevel.OK
    assert not flag.required
    assert flag.reasons == ()


def test_the_latest_check_of_each_kind_decides(kam, make_account):
    account = make_account(kam, kind="client")
    _record_all(kam, account)
    assert screening_flags_for([account])[account.pk].level == ScreeningLevel.OK
    screening_check_record(actor=kam, account=account, kind="credit", result="failed")
    assert screening_flags_for([account])[account.pk].level == ScreeningLevel.DANGER
    screening_check_record(
        actor=kam, account=account, kind="credit", result="passed", credit_limit=10_000_000
    )
    assert screening_flags_for([account])[account.pk].level == ScreeningLevel.OK


def test_the_dashboard_query_agrees_with_the_policy(kam, make_account):
    """The SQL that counts accounts needing screening applies the same rules as the policy."""
    today = timezone.localdate()
    accounts = {}
    for story in ("ok", "none", "failed", "pending", "expired", "no_limit", "partial"):
        accounts[story] = make_account(kam, kind="client", name=f"株式会社{story}")
    make_account(kam, kind="prospect")
    make_account(kam, kind="competitor")
    for story, account in accounts.items():
        if story == "none":
            continue
        _record_all(kam, account)
    screening_check_record(actor=kam, account=accounts["failed"], kind="registry", result="failed")
    screening_check_record(actor=kam, account=accounts["pending"], kind="credit", result="pending")
    ScreeningCheck.objects.filter(account=accounts["expired"], kind="credit").update(
        recheck_due=today - datetime.timedelta(days=1)
    )
    ScreeningCheck.objects.filter(account=accounts["no_limit"], kind="credit").update(
        credit_limit=None
    )
    ScreeningCheck.objects.filter(account=accounts["partial"], kind="registry").delete()

    visible = list(Account.objects.visible_to(kam))
    flags = screening_flags_for(visible, today=today)
    flagged_by_policy = {pk for pk, flag in flags.items() if flag.is_flagged}
    attention = list(screening_attention_list(viewer=kam, today=today))
    assert {a.pk for a in attention} == flagged_by_policy
    assert flagged_by_policy == {a.pk for s, a in accounts.items() if s != "ok"}
    assert attention[0].pk == accounts["failed"].pk  # failures first


# -- recording checks ----------------------------------------------------------------------------


def test_recording_a_passed_check_keeps_evidence_and_defaults_the_recheck_date(kam, make_account):
    account = make_account(kam, kind="client")
    files = [
        _upload("企業調査報告書.pdf", PDF),
        _upload("scan.PNG", PNG),
        _upload("photo.jpeg", JPEG),
        _upload("fax.tif", TIFF),
        _upload("与信台帳.xlsx", XLSX),
    ]
    check = screening_check_record(
        actor=kam,
        account=account,
        kind="credit",
        result="passed",
        subject=account.name,
        credit_limit=Decimal(50_000_000),
        source="帝国データバンク",
        notes="評点58",
        files=files,
    )
    check.refresh_from_db()
    today = timezone.localdate()
    assert check.checked_by == kam
    assert check.credit_limit == Decimal(50_000_000)
    assert check.recheck_due == today.replace(year=today.year + 1)
    names = sorted(e.original_name for e in check.evidence.all())
    assert names == sorted(
        ["企業調査報告書.pdf", "scan.PNG", "photo.jpeg", "fax.tif", "与信台帳.xlsx"]
    )
    evidence = check.evidence.get(original_name="企業調査報告書.pdf")
    assert evidence.uploaded_by == kam
    with evidence.file.open("rb") as handle:
        assert handle.read() == PDF
    event = AuditEvent.objects.get(action="accounts.screening.recorded")
    assert event.scope == f"account:{account.pk}"
    assert event.actor == kam
    assert event.changes["result"] == [None, "passed"]
    assert "企業調査報告書.pdf" in event.changes["evidence"][1]


def test_a_docx_and_a_decomposed_japanese_file_name_are_kept_as_people_see_them(kam, make_account):
    account = make_account(kam, kind="client")
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "登記簿ガイド.docx")
    check = screening_check_record(
        actor=kam,
        account=account,
        kind="registry",
        result="passed",
        files=[_upload(decomposed, DOCX)],
    )
    assert check.evidence.get().original_name == "登記簿ガイド.docx"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([("malware.exe", b"MZ\x90\x00")], "not a file type we keep"),
        ([("notes.txt", b"hello")], "not a file type we keep"),
        ([("report.pdf", b"<html>not a pdf</html>")], "not really a PDF file"),
        ([("report.pdf", PNG)], "not really a PDF file"),
        ([("photo.png", JPEG)], "not really a PNG file"),
        ([("book.xlsx", DOCX)], "not really a XLSX file"),
        ([("book.xlsx", b"PK\x03\x04 broken zip")], "not really a XLSX file"),
        ([("empty.pdf", b"")], "is empty"),
        ([(f"{i}.pdf", PDF) for i in range(6)], "at most 5 files"),
        (
            [("ok.pdf", PDF), ("huge.pdf", b"%PDF-" + b"0" * MAX_EVIDENCE_BYTES)],
            "larger than 10 MB",
        ),
    ],
)
def test_bad_evidence_is_refused_and_nothing_is_kept(kam, make_account, _media, files, message):
    account = make_account(kam, kind="client")
    with pytest.raises(ApplicationError) as caught:
        screening_check_record(
            actor=kam,
            account=account,
            kind="registry",
            result="passed",
            files=[_upload(name, content) for name, content in files],
        )
    assert "files" in caught.value.errors
    assert message in " ".join(caught.value.errors["files"])
    assert not ScreeningCheck.objects.exists()
    assert not ScreeningEvidence.objects.exists()
    assert not AuditEvent.objects.filter(action="accounts.screening.recorded").exists()
    assert _stored_files(_media) == []


def test_field_rules_are_reported_together_and_nothing_is_saved(kam, make_account):
    account = make_account(kam, kind="client")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    with pytest.raises(ApplicationError) as caught:
        screening_check_record(
            actor=kam,
            account=account,
            kind="credit",
            result="passed",
            recheck_due=yesterday,
            notes="<script>alert(1)</script>",
            source="x" * 201,
        )
    assert set(caught.value.errors) == {"credit_limit", "recheck_due", "notes", "source"}
    for limit, problem in ((-1, "negative"), (Decimal("10.5"), "whole yen"), ("abc", "number")):
        with pytest.raises(ApplicationError) as caught:
            screening_check_record(
                actor=kam, account=account, kind="credit", result="passed", credit_limit=limit
            )
        assert problem in caught.value.errors["credit_limit"][0]
    with pytest.raises(ApplicationError) as caught:
        screening_check_record(
            actor=kam, account=account, kind="registry", result="passed", credit_limit=100
        )
    assert "Only a credit check" in caught.value.errors["credit_limit"][0]
    with pytest.raises(ApplicationError) as caught:
        screening_check_record(actor=kam, account=account, kind="astrology", result="maybe")
    assert set(caught.value.errors) == {"kind", "result"}
    assert not ScreeningCheck.objects.exists()
    assert not AuditEvent.objects.filter(action="accounts.screening.recorded").exists()


def test_a_failed_or_pending_check_needs_no_limit_and_no_recheck_date(kam, make_account):
    account = make_account(kam, kind="client")
    failed = screening_check_record(actor=kam, account=account, kind="credit", result="failed")
    assert failed.credit_limit is None and failed.recheck_due is None
    pending = screening_check_record(actor=kam, account=account, kind="registry", result="pending")
    assert pending.recheck_due is None


def test_support_reads_but_cannot_record(support, kam, make_account):
    account = make_account(kam, kind="client")
    with pytest.raises(PermissionDenied):
        screening_check_record(actor=support, account=account, kind="registry", result="passed")
    assert not ScreeningCheck.objects.exists()


def test_another_teams_account_cannot_be_screened(kam, west_am, make_account):
    account = make_account(west_am, kind="client")
    with pytest.raises(NotFound):
        screening_check_record(actor=kam, account=account, kind="registry", result="passed")
    assert not ScreeningCheck.objects.exists()


def test_an_archived_account_is_not_screened(kam, make_account):
    account = make_account(kam, kind="client")
    account_archive(actor=kam, account=account)
    with pytest.raises(ApplicationError):
        screening_check_record(actor=kam, account=account, kind="registry", result="passed")
    assert not ScreeningCheck.objects.exists()


# -- pages ---------------------------------------------------------------------------------------


@pytest.fixture
def kam_client(client, kam):
    client.force_login(kam)
    return client


def test_list_rows_carry_a_badge_that_says_why(kam_client, kam, make_account):
    make_account(kam, kind="client", name="株式会社未審査")
    make_account(kam, kind="prospect", name="株式会社見込")
    make_account(kam, kind="competitor", name="株式会社競合")
    screened = make_account(kam, kind="partner", name="株式会社審査済")
    _record_all(kam, screened)
    html = kam_client.get(reverse("accounts:index")).text
    assert html.count("badge-screening-warning") == 1
    assert 'title="No anti-social forces check of the company on record.' in html
    assert '<span class="visually-hidden">: No anti-social forces check' in html
    assert html.count("badge-screening-info") == 1
    assert "Not screened yet" in html
    assert "badge-screening-danger" not in html


def test_the_list_query_count_does_not_grow_with_flags(kam_client, kam, make_account):
    def add(n):
        for _ in range(n):
            account = make_account(kam, kind="client")
            _record_all(kam, account)
            screening_check_record(actor=kam, account=account, kind="credit", result="failed")

    add(5)
    with CaptureQueriesContext(connection) as small:
        assert "badge-screening-danger" in kam_client.get(reverse("accounts:index")).text
    add(20)
    with CaptureQueriesContext(connection) as large:
        html = kam_client.get(reverse("accounts:index")).text
    assert html.count("badge-screening-danger") == 25
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_account_page_shows_the_reasons_in_words_and_the_checks(kam_client, kam, make_account):
    account = make_account(kam, kind="client")
    _record_all(kam, account)
    screening_check_record(
        actor=kam,
        account=account,
        kind="antisocial_representative",
        result="failed",
        subject="代表取締役 山田太郎",
        files=[_upload("記事.pdf", PDF)],
    )
    html = kam_client.get(reverse("accounts:detail", args=[account.pk])).text
    assert 'class="screening-flag screening-flag-danger"' in html
    assert "Screening failed" in html
    assert "Anti-social forces check of the representative failed on" in html
    assert "by Kei Kamiya." in html
    assert "Risk screening" in html
    assert "代表取締役 山田太郎" in html
    assert "¥30,000,000" in html
    assert "記事.pdf" in html
    assert reverse("accounts:screening_new", args=[account.pk]) in html


def test_an_ok_account_has_no_banner_and_support_sees_no_record_link(
    client, support, kam, make_account
):
    account = make_account(kam, kind="client")
    _record_all(kam, account)
    client.force_login(support)
    html = client.get(reverse("accounts:detail", args=[account.pk])).text
    assert "screening-flag-" not in html
    assert "Passed" in html
    assert reverse("accounts:screening_new", args=[account.pk]) not in html


def test_the_contact_page_flags_the_account(kam_client, kam, make_account, make_contact):
    contact = make_contact(make_account(kam, kind="contractor"))
    html = kam_client.get(reverse("accounts:contact_detail", args=[contact.pk])).text
    assert "badge-screening-warning" in html
    assert "No credit check on record." in html


def test_the_dashboard_lists_ten_accounts_needing_screening_with_a_count(
    kam_client, kam, west_am, make_account
):
    for i in range(12):
        make_account(kam, kind="client", name=f"株式会社要審査{i:02d}")
    make_account(west_am, kind="client", name="株式会社西日本")  # not kam's to see
    screened = make_account(kam, kind="client", name="株式会社審査済")
    _record_all(kam, screened)
    html = kam_client.get(reverse("web:dashboard")).text
    assert "Needs screening" in html
    assert "All 12 →" in html
    assert html.count('#screening">株式会社要審査') == 10
    assert "株式会社西日本" not in html
    page = kam_client.get(reverse("accounts:screening_index")).text
    assert page.count('#screening">株式会社要審査') == 12
    assert "株式会社審査済" not in page


def test_recording_a_check_through_the_page(kam_client, kam, make_account, _media):
    account = make_account(kam, kind="client")
    url = reverse("accounts:screening_new", args=[account.pk])
    assert kam_client.get(url, {"kind": "credit"}).status_code == 200
    response = kam_client.post(
        url,
        {
            "kind": "credit",
            "result": "passed",
            "credit_limit": "５０,０００,０００",
            "source": "東京商工リサーチ",
            "files": [_upload("TSR報告書.pdf", PDF), _upload("台帳.xlsx", XLSX)],
        },
    )
    assert response.status_code == 302
    check = ScreeningCheck.objects.get()
    assert check.credit_limit == Decimal(50_000_000)
    assert sorted(e.original_name for e in check.evidence.all()) == ["TSR報告書.pdf", "台帳.xlsx"]
    detail = kam_client.get(reverse("accounts:screening_check", args=[check.pk])).text
    assert "TSR報告書.pdf" in detail and "¥50,000,000" in detail


def test_a_check_page_says_when_a_later_check_supersedes_it(kam_client, kam, make_account):
    account = make_account(kam, kind="client")
    old = screening_check_record(actor=kam, account=account, kind="registry", result="failed")
    url = reverse("accounts:screening_check", args=[old.pk])
    assert "supersedes this one" not in kam_client.get(url).text
    screening_check_record(actor=kam, account=account, kind="registry", result="passed")
    assert "supersedes this one" in kam_client.get(url).text


def test_the_page_shows_errors_next_to_the_fields_and_keeps_nothing(
    kam_client, kam, make_account, _media
):
    account = make_account(kam, kind="client")
    response = kam_client.post(
        reverse("accounts:screening_new", args=[account.pk]),
        {"kind": "credit", "result": "passed", "files": [_upload("fake.pdf", b"GIF89a")]},
    )
    assert response.status_code == 422
    assert "Enter the credit limit this check allows." in response.text
    assert "“fake.pdf” is not really a PDF file" in response.text
    assert not ScreeningCheck.objects.exists()
    assert _stored_files(_media) == []


def test_evidence_downloads_check_who_may_see_the_account(
    client, kam, am, support, west_am, make_account
):
    account = make_account(kam, kind="client")
    check = screening_check_record(
        actor=kam,
        account=account,
        kind="registry",
        result="passed",
        files=[_upload("登記.pdf", PDF)],
    )
    evidence = check.evidence.get()
    url = reverse("accounts:screening_evidence", args=[evidence.pk])
    for user in (kam, am, support):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert "attachment" in response["Content-Disposition"]
    client.force_login(west_am)
    assert client.get(url).status_code == 404
    assert client.get(reverse("accounts:screening_check", args=[check.pk])).status_code == 404
    assert client.get(reverse("accounts:screening_new", args=[account.pk])).status_code == 404


def test_support_may_read_checks_but_gets_403_on_recording(client, support, kam, make_account):
    account = make_account(kam, kind="client")
    check = screening_check_record(actor=kam, account=account, kind="registry", result="passed")
    client.force_login(support)
    assert client.get(reverse("accounts:screening_check", args=[check.pk])).status_code == 200
    url = reverse("accounts:screening_new", args=[account.pk])
    assert client.get(url).status_code == 403
    response = client.post(url, {"kind": "registry", "result": "passed"})
    assert response.status_code == 403
    assert ScreeningCheck.objects.count() == 1


def test_media_is_never_served_directly(kam_client, kam, make_account):
    account = make_account(kam, kind="client")
    check = screening_check_record(
        actor=kam, account=account, kind="registry", result="passed", files=[_upload("a.pdf", PDF)]
    )
    path = check.evidence.get().file.url
    assert kam_client.get(path).status_code == 404


# -- API -----------------------------------------------------------------------------------------


@pytest.fixture
def token_headers(kam):
    _token, key = api_token_create(actor=kam, user=kam)
    return {"Authorization": f"Bearer {key}"}


def test_api_account_output_carries_the_screening_flag(client, kam, make_account, token_headers):
    account = make_account(kam, kind="client")
    body = client.get(f"/api/v1/accounts/{account.pk}", headers=token_headers).json()
    assert body["screening"]["level"] == "warning"
    assert "No credit check on record." in body["screening"]["reasons"]
    items = client.get("/api/v1/accounts", headers=token_headers).json()["items"]
    assert items[0]["screening"]["level"] == "warning"


def test_api_list_query_count_does_not_grow_with_flags(client, kam, make_account, token_headers):
    def add(n):
        for _ in range(n):
            account = make_account(kam, kind="client")
            screening_check_record(actor=kam, account=account, kind="credit", result="failed")

    add(5)
    client.get("/api/v1/accounts", headers=token_headers)  # the token's first use is recorded
    with CaptureQueriesContext(connection) as small:
        client.get("/api/v1/accounts", headers=token_headers)
    add(20)
    with CaptureQueriesContext(connection) as large:
        body = client.get("/api/v1/accounts", headers=token_headers).json()
    assert {item["screening"]["level"] for item in body["items"]} == {"danger"}
    assert len(large.captured_queries) == len(small.captured_queries)


def test_api_records_and_reads_screening(client, kam, make_account, token_headers):
    account = make_account(kam, kind="client")
    url = f"/api/v1/accounts/{account.pk}/screening"
    response = client.post(
        url,
        {
            "kind": "credit",
            "result": "passed",
            "credit_limit": "20000000",
            "source": "帝国データバンク",
            "files": [_upload("TDB.pdf", PDF)],
        },
        headers=token_headers,
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["credit_limit"] == 20_000_000
    assert created["checked_by"] == "kam"
    assert created["evidence"][0]["name"] == "TDB.pdf"
    without_files = client.post(
        url, {"kind": "registry", "result": "pending"}, headers=token_headers
    )
    assert without_files.status_code == 201, without_files.content
    body = client.get(url, headers=token_headers).json()
    assert body["flag"]["level"] == "warning"
    assert {c["kind"] for c in body["checks"]} == {"credit", "registry"}
    download = client.get(created["evidence"][0]["download_url"], headers=token_headers)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF


def test_api_refuses_bad_input_in_the_common_shape(client, kam, make_account, token_headers):
    account = make_account(kam, kind="client")
    url = f"/api/v1/accounts/{account.pk}/screening"
    response = client.post(
        url,
        {"kind": "credit", "result": "passed", "files": [_upload("x.pdf", b"not a pdf")]},
        headers=token_headers,
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert set(error["fields"]) == {"credit_limit", "files"}
    bad = client.post(url, {"kind": "tarot", "result": "passed"}, headers=token_headers)
    assert bad.status_code == 422
    assert not ScreeningCheck.objects.exists()


def test_api_screening_follows_visibility_and_roles(
    client, kam, support, west_am, make_account, token_headers
):
    foreign = make_account(west_am, kind="client")
    check = screening_check_record(
        actor=west_am,
        account=foreign,
        kind="registry",
        result="passed",
        files=[_upload("a.pdf", PDF)],
    )
    assert (
        client.get(f"/api/v1/accounts/{foreign.pk}/screening", headers=token_headers).status_code
        == 404
    )
    response = client.post(
        f"/api/v1/accounts/{foreign.pk}/screening",
        {"kind": "registry", "result": "passed"},
        headers=token_headers,
    )
    assert response.status_code == 404
    evidence_url = f"/api/v1/screening/evidence/{check.evidence.get().pk}"
    assert client.get(evidence_url, headers=token_headers).status_code == 404
    _t, key = api_token_create(actor=support, user=support)
    support_headers = {"Authorization": f"Bearer {key}"}
    download = client.get(evidence_url, headers=support_headers)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    response = client.post(
        f"/api/v1/accounts/{foreign.pk}/screening",
        {"kind": "registry", "result": "passed"},
        headers=support_headers,
    )
    assert response.status_code == 403
    assert json.loads(response.content)["error"]["code"] == "forbidden"
    assert ScreeningCheck.objects.count() == 1


# -- demo ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_screening_flags_show_up_for_kam_and_loading_twice_changes_nothing():
    from tokui.users.models import User
    from tokui.web.demo import demo_load
    from tokui.web.demo_screening import demo_screening

    out = io.StringIO()
    demo_load(accounts=80, stdout=out)  # the demo loads screening checks with the book
    assert "screening checks" in out.getvalue()
    counts = (ScreeningCheck.objects.count(), ScreeningEvidence.objects.count())
    assert counts[0] > 0
    demo_screening()
    assert (ScreeningCheck.objects.count(), ScreeningEvidence.objects.count()) == counts

    kam = User.objects.get(username="kam")
    mine = list(Account.objects.visible_to(kam).filter(archived_at=None))
    levels = [flag.level for flag in screening_flags_for(mine).values()]
    assert {"ok", "warning", "danger"} <= set(levels)
    counterparties = [a for a in Account.objects.filter(kind__in=["client", "partner"])]
    flags = screening_flags_for(counterparties)
    assert sum(f.level == "ok" for f in flags.values()) > len(counterparties) / 2
    for check in ScreeningCheck.objects.filter(result="passed", kind="credit"):
        assert Decimal(5_000_000) <= check.credit_limit <= Decimal(200_000_000)
    evidence = ScreeningEvidence.objects.first()
    assert evidence is not None
    with evidence.file.open("rb") as handle:
        assert handle.read(5) == b"%PDF-"


def test_the_contact_list_shows_the_accounts_screening_badge(
    client, kam, make_account, make_contact
):
    account = make_account(kam, name="株式会社未審査", kind="client")
    make_contact(account, family_name="高田")
    client.force_login(kam)
    response = client.get("/contacts/")
    assert response.status_code == 200
    assert "badge-screening" in response.text
