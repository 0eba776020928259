import io

import pytest

from tests.accounts.imports.conftest import csv_bytes
from tests.accounts.imports.test_readers import VCARDS, xlsx_bytes
from tests.conftest import valid_corporate_number
from tokui.accounts.imports import runner
from tokui.accounts.imports.runner import import_job_run
from tokui.accounts.imports.services import import_job_create
from tokui.accounts.models import Account, Contact, ImportJob, ImportRowResult
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.models import AuditEvent


@pytest.fixture(autouse=True, params=[True, False], ids=["fast path", "service path"])
def both_paths(request, monkeypatch):
    """Every test runs with new records written in bulk and one by one through the services."""
    monkeypatch.setattr(runner, "FAST_PATH", request.param)
    return request.param


ACCOUNT_HEADER = [
    "会社名",
    "フリガナ",
    "法人番号",
    "電話番号",
    "ウェブサイト",
    "郵便番号",
    "従業員数",
    "種別",
]


def results(job):
    return {r.row_number: (r.outcome, r.message) for r in ImportRowResult.objects.filter(job=job)}


def test_accounts_go_through_the_service_normalisation_and_audit(kam, run_import):
    data = csv_bytes(
        [
            ACCOUNT_HEADER,
            [
                "株式会社山田商事",
                "ﾔﾏﾀﾞｼｮｳｼﾞ",
                "７０００-０１２０-５０００２",
                "03-1234-5678",
                "www.yamada.example.co.jp",
                "〒100-0005",
                "1,200",
                "Client",
            ],
            ["有限会社北斗精機", "", "", "", "", "", "", "見込み客"],
        ]
    )
    job = run_import(kam, data, target="accounts")
    assert (job.status, job.created_count, job.rejected_count) == ("done", 2, 0)
    yamada = Account.objects.get(name="株式会社山田商事")
    assert yamada.name_kana == "ヤマダショウジ"
    assert yamada.corporate_number == "7000012050002"
    assert yamada.phone == "+81312345678"
    assert yamada.website == "https://www.yamada.example.co.jp"
    assert (yamada.postal_code, yamada.prefecture, yamada.city) == ("1000005", "東京都", "千代田区")
    assert yamada.employees == 1200
    assert yamada.kind == "client"
    assert yamada.owner == kam
    event = AuditEvent.objects.get(action="accounts.account.created", target_id=str(yamada.pk))
    assert event.actor == kam
    assert not results(job)  # created rows are only counted


def test_a_rejected_row_is_reported_with_its_reason_and_leaves_nothing(kam, run_import):
    data = csv_bytes(
        [
            ["会社名", "電話番号", "法人番号"],
            ["株式会社一番", "03-1234-5678", ""],
            ["株式会社二番", "12", "1234567890123"],
            ["株式会社三番", "", ""],
        ]
    )
    job = run_import(kam, data, target="accounts")
    assert (job.created_count, job.rejected_count, job.processed_rows) == (2, 1, 3)
    outcome, message = results(job)[3]
    assert outcome == "rejected"
    assert "Phone: “12” is not a valid phone number." in message
    assert "Corporate number:" in message
    assert not Account.objects.filter(name="株式会社二番").exists()
    assert AuditEvent.objects.filter(action="accounts.account.created").count() == 2


def test_accounts_match_by_corporate_number_then_name_and_phone_or_domain(
    kam, make_account, run_import
):
    number = valid_corporate_number(700001205000)
    by_number = make_account(kam, name="株式会社旧社名", corporate_number=number)
    by_phone = make_account(kam, name="株式会社山田商事", phone="03-1234-5678")
    by_domain = make_account(kam, name="Contoso Co., Ltd.", website="https://www.contoso.example")
    data = csv_bytes(
        [
            ["会社名", "法人番号", "電話番号", "ウェブサイト", "業種"],
            ["株式会社新社名", number, "", "", "製造業"],
            ["㈱山田商事", "", "0312345678", "", "商社"],
            ["CONTOSO LIMITED", "", "", "contoso.example/about", "IT"],
            ["株式会社山田商事", "", "06-1234-5678", "", "別会社"],
        ]
    )
    job = run_import(kam, data, target="accounts", mode="update")
    assert (job.updated_count, job.created_count) == (3, 1)
    for account in (by_number, by_phone, by_domain):
        account.refresh_from_db()
    assert (by_number.name, by_number.industry) == ("株式会社新社名", "製造業")
    assert by_phone.industry == "商社"
    assert by_domain.industry == "IT"
    assert results(job)[2][1] == "Updated “株式会社旧社名”: Company name, Industry."
    assert Account.objects.filter(match_key=by_phone.match_key).count() == 2  # other phone: new


def test_create_mode_refuses_existing_records_and_skip_mode_leaves_them(
    kam, make_account, run_import
):
    existing = make_account(kam, name="株式会社山田商事", phone="03-1234-5678", industry="商社")
    rows = [["会社名", "電話番号", "業種"], ["株式会社山田商事", "03-1234-5678", "製造業"]]
    created = run_import(kam, csv_bytes(rows), target="accounts", mode="create")
    assert results(created) == {
        2: (
            "rejected",
            "Already exists: “株式会社山田商事”. Import it in update or skip mode to keep it.",
        )
    }
    skipped = run_import(kam, csv_bytes(rows), target="accounts", mode="skip")
    assert skipped.skipped_count == 1
    assert results(skipped)[2] == ("skipped", "Already exists: “株式会社山田商事”.")
    existing.refresh_from_db()
    assert existing.industry == "商社"
    assert existing.version == 1
    assert Account.objects.count() == 1


def test_update_mode_changes_only_what_the_file_says_and_counts_unchanged_rows_as_skipped(
    kam, make_account, run_import
):
    account = make_account(kam, name="株式会社山田商事", phone="03-1234-5678", industry="商社")
    rows = [
        ["会社名", "電話番号", "業種", "備考"],
        ["株式会社山田商事", "03-1234-5678", "", "重要顧客"],
    ]
    job = run_import(kam, csv_bytes(rows), target="accounts", mode="update")
    account.refresh_from_db()
    assert (account.industry, account.notes, account.version) == ("商社", "重要顧客", 2)
    again = run_import(kam, csv_bytes(rows), target="accounts", mode="update")
    assert results(again)[2] == ("skipped", "Already up to date: “株式会社山田商事”.")
    assert job.updated_count == 1


def test_a_row_for_another_teams_account_is_refused_without_naming_it(
    kam, west_am, make_account, make_contact, run_import
):
    number = valid_corporate_number(700001205000)
    hidden = make_account(
        west_am, name="株式会社西日本秘密商事", corporate_number=number, phone="06-1234-5678"
    )
    make_contact(hidden, email="secret@west.example.jp")
    accounts = csv_bytes(
        [
            ["会社名", "法人番号", "電話番号"],
            ["株式会社別名", number, ""],
            ["株式会社西日本秘密商事", "", "06-1234-5678"],
        ]
    )
    for mode in ("create", "update", "skip"):
        job = run_import(kam, accounts, target="accounts", mode=mode)
        assert job.rejected_count == 2
        for _outcome, message in results(job).values():
            assert "may not see" in message
            assert "秘密" not in message
    contacts = csv_bytes(
        [
            ["会社名", "姓", "メール"],
            ["株式会社西日本秘密商事", "佐藤", ""],
            ["株式会社東の会社", "鈴木", "secret@west.example.jp"],
        ]
    )
    job = run_import(kam, contacts, target="contacts", mode="update")
    assert job.rejected_count == 2
    messages = {number: message for number, (_o, message) in results(job).items()}
    assert "may not see" in messages[2]
    assert "may not see" in messages[3]
    assert "秘密" not in messages[3]  # the row named another company: the hidden one stays hidden
    assert Account.objects.count() == 1  # the second row's new account was rolled back
    assert Contact.objects.count() == 1
    hidden.refresh_from_db()
    assert hidden.version == 1


def test_contacts_find_their_account_by_company_name_and_match_by_email_then_name(
    kam, make_account, make_contact, run_import
):
    yamada = make_account(kam, name="株式会社山田商事")
    by_email = make_contact(
        yamada, family_name="山田", given_name="太郎", email="taro@yamada.example.jp"
    )
    by_name = make_contact(yamada, family_name="佐藤", given_name="花子", email="")
    data = csv_bytes(
        [
            ["会社名", "姓", "名", "メール", "役職"],
            ["㈱山田商事", "山田", "太郎", "TARO@YAMADA.EXAMPLE.JP", "部長"],
            ["(株)山田商事", "佐藤", "花子", "hanako@yamada.example.jp", "課長"],
            ["山田商事", "佐藤", "花子", "other-hanako@yamada.example.jp", "係長"],
        ]
    )
    job = run_import(kam, data, target="contacts", mode="update")
    by_email.refresh_from_db()
    by_name.refresh_from_db()
    assert by_email.title == "部長"
    assert (by_name.title, by_name.email) == ("課長", "hanako@yamada.example.jp")
    assert (job.updated_count, job.created_count) == (2, 1)  # a namesake with another address
    assert Contact.objects.filter(account=yamada).count() == 3
    assert Account.objects.count() == 1


def test_a_missing_account_is_created_and_the_report_says_so(kam, run_import):
    data = csv_bytes(
        [
            ["会社名", "姓", "名", "FAX", "郵便番号", "住所"],
            [
                "株式会社新規",
                "鈴木",
                "一郎",
                "03-1234-5679",
                "100-0005",
                "東京都千代田区丸の内1-1-1",
            ],
            ["株式会社新規", "鈴木", "二郎", "", "", ""],
        ]
    )
    job = run_import(kam, data, target="contacts", preset="cards")
    assert job.created_count == 2
    account = Account.objects.get(name="株式会社新規")
    assert account.owner == kam
    assert (account.fax, account.postal_code) == ("+81312345679", "1000005")
    assert (account.prefecture, account.city, account.street) == (
        "東京都",
        "千代田区",
        "丸の内1-1-1",
    )
    assert results(job) == {2: ("created", "Created account “株式会社新規”.")}
    assert Contact.objects.filter(account=account).count() == 2


def test_skip_mode_does_not_create_accounts(kam, run_import):
    data = csv_bytes([["会社名", "姓"], ["株式会社新規", "鈴木"]])
    job = run_import(kam, data, target="contacts", mode="skip")
    assert job.rejected_count == 1
    assert "does not create accounts" in results(job)[2][1]
    assert not Account.objects.exists()


def test_a_contact_row_is_all_or_nothing_with_its_new_account(kam, run_import):
    data = csv_bytes([["会社名", "姓", "メール"], ["株式会社新規", "鈴木", "not-an-address"]])
    job = run_import(kam, data, target="contacts")
    assert results(job)[2] == (
        "rejected",
        "E-mail: “not-an-address” is not a valid e-mail address.",
    )
    assert not Account.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="accounts.account").exists()


def test_a_row_repeated_in_the_file_is_merged_into_the_record_of_the_first(kam, run_import):
    data = csv_bytes(
        [
            ["会社名", "姓", "名", "メール", "携帯電話"],
            ["株式会社山田商事", "山田", "太郎", "taro@yamada.example.jp", ""],
            ["株式会社山田商事", "山田", "太郎", "taro@yamada.example.jp", "090-1234-5678"],
        ]
    )
    job = run_import(kam, data, target="contacts")
    assert (job.created_count, job.merged_count) == (1, 1)
    contact = Contact.objects.get()
    assert contact.mobile == "+819012345678"
    assert results(job)[3][0] == "merged"


def test_a_repeated_row_with_a_bad_value_is_rejected_not_merged(kam, run_import):
    data = csv_bytes(
        [
            ["会社名", "姓", "名", "携帯電話"],
            ["株式会社山田商事", "山田", "太郎", "090-1234-5678"],
            ["株式会社山田商事", "山田", "太郎", "12"],
        ]
    )
    job = run_import(kam, data, target="contacts")
    assert results(job)[3] == ("rejected", "Mobile: “12” is not a valid phone number.")
    assert Contact.objects.get().mobile == "+819012345678"


def test_formula_payloads_are_stored_as_typed_text(kam, run_import):
    payload = "=cmd|' /C calc'!A0"
    data = csv_bytes(
        [["会社名", "備考", "電話番号"], [payload, "@SUM(A1)", ""], ["株式会社B", "", "=1+1"]]
    )
    job = run_import(kam, data, target="accounts")
    assert job.created_count == 1
    assert Account.objects.get().notes == "@SUM(A1)"
    assert Account.objects.get().name == payload
    assert "“=1+1” is not a valid phone number" in results(job)[3][1]


def test_full_names_choices_and_owners_are_understood(kam, am, run_import):
    data = csv_bytes(
        [["company", "name", "marketing consent"], ["株式会社A", "山田　太郎", "はい"]]
    )
    run_import(kam, data, target="contacts")
    contact = Contact.objects.get()
    assert (contact.family_name, contact.given_name, contact.marketing_consent) == (
        "山田",
        "太郎",
        True,
    )
    accounts = csv_bytes(
        [["name", "owner", "tier"], ["株式会社B", "am", "Key account"], ["株式会社C", "nobody", ""]]
    )
    job = run_import(kam, accounts, target="accounts")
    assert Account.objects.get(name="株式会社B").owner == am
    assert Account.objects.get(name="株式会社B").tier == "key"
    assert results(job)[3] == ("rejected", "Owner: There is no user named “nobody”.")


def test_xlsx_and_vcard_files_import_end_to_end(kam, run_import):
    book = xlsx_bytes([["会社名", "電話番号"], ["株式会社エクセル", "03-1234-5678"]])
    job = run_import(kam, book, target="accounts", name="accounts.xlsx")
    assert (job.file_format, job.created_count) == ("xlsx", 1)
    cards = run_import(kam, VCARDS.encode(), target="contacts", name="cards.vcf")
    assert (cards.file_format, cards.created_count, cards.rejected_count) == ("vcard", 2, 1)
    taro = Contact.objects.get(email="taro@yamada.example.jp")
    assert (taro.account.name, taro.mobile, taro.family_name_kana) == (
        "株式会社山田商事",
        "+819012345678",
        "ヤマダ",
    )
    assert Contact.objects.get(family_name="佐藤").account.name == "Contoso Ltd."


def test_a_vcard_cannot_be_imported_as_accounts(kam):
    with pytest.raises(ApplicationError, match="vCard file holds contacts"):
        import_job_create(
            actor=kam, file=io.BytesIO(VCARDS.encode()), name="c.vcf", target="accounts"
        )
    assert not ImportJob.objects.exists()


def test_support_cannot_import(support):
    with pytest.raises(PermissionDenied):
        import_job_create(
            actor=support, file=io.BytesIO(b"name\r\nA\r\n"), name="a.csv", target="accounts"
        )


def _rows(n):
    return csv_bytes([["会社名", "電話番号"]] + [[f"株式会社テスト{i:03d}", ""] for i in range(n)])


def test_a_crashed_import_resumes_after_its_last_batch_without_duplicates(kam, settings):
    settings.TOKUI_IMPORT_BATCH_SIZE = 5
    job = import_job_create(actor=kam, file=io.BytesIO(_rows(23)), name="a.csv", target="accounts")
    batches = []

    def crash_after_two_batches(progress_job):
        batches.append(progress_job.processed_rows)
        if progress_job.processed_rows >= 10:
            raise RuntimeError("the worker died")

    with pytest.raises(RuntimeError):
        import_job_run(job_id=job.pk, progress=crash_after_two_batches)
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.created_count) == ("failed", 10, 10)
    assert "Resume it" in job.error
    assert Account.objects.count() == 10
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.processed_rows, job.created_count) == ("done", 23, 23)
    assert Account.objects.count() == 23
    assert Account.objects.values("name").distinct().count() == 23


def test_a_crash_in_the_middle_of_a_batch_loses_only_that_batch(kam, settings, monkeypatch):
    settings.TOKUI_IMPORT_BATCH_SIZE = 5
    job = import_job_create(actor=kam, file=io.BytesIO(_rows(12)), name="a.csv", target="accounts")
    original = runner.AccountImporter.convert
    calls = []

    def flaky(self, cells):
        calls.append(cells)
        if len(calls) == 8:
            raise RuntimeError("power cut")
        return original(self, cells)

    monkeypatch.setattr(runner.AccountImporter, "convert", flaky)
    with pytest.raises(RuntimeError):
        import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.processed_rows, job.created_count, Account.objects.count()) == (5, 5, 5)
    monkeypatch.setattr(runner.AccountImporter, "convert", original)
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.created_count, Account.objects.count()) == ("done", 12, 12)
    assert Account.objects.values("name").distinct().count() == 12


def test_a_finished_job_is_not_run_again(kam, run_import):
    job = run_import(kam, _rows(3), target="accounts")
    import_job_run(job_id=job.pk)
    assert Account.objects.count() == 3


def test_a_mapping_that_no_longer_fits_fails_the_job_with_the_reason(kam):
    job = import_job_create(actor=kam, file=io.BytesIO(_rows(2)), name="a.csv", target="accounts")
    ImportJob.objects.filter(pk=job.pk).update(mapping={"会社名": "name", "電話番号": "salary"})
    job = import_job_run(job_id=job.pk)
    assert job.status == "failed"
    assert "“salary”: no such field" in job.error
    assert not Account.objects.exists()


CONTACT_FIELDS = [
    "family_name", "given_name", "family_name_kana", "given_name_kana", "title", "department",
    "email", "phone", "mobile", "marketing_consent", "notes", "sort_key", "search_text",
    "match_key", "reading_key", "email_key", "search_bigrams", "version",
]  # fmt: skip


def test_the_fast_path_writes_what_the_services_write(kam, make_account, monkeypatch, settings):
    """Same rows through the bulk path and through contact_create: same records and events."""
    settings.TOKUI_IMPORT_BATCH_SIZE = 3
    fast_account = make_account(kam, name="株式会社速い")
    slow_account = make_account(kam, name="株式会社遅い")
    people = [
        [
            "ﾔﾏﾀﾞ",
            "ﾀﾛｳ",
            "山田",
            "太郎",
            "TARO@Example.CO.JP",
            "03-1234-5678",
            "090 1234 5678",
            "部長",
        ],
        ["さとう", "はなこ", "佐藤", "花子", "", "(06) 1234-5678", "", " 営業部 "],
        ["", "", "鈴木", "", "suzuki@example.jp", "", "", ""],
        ["ヤマダ", "タロウ", "山田", "太郎", "", "+81 3 1234 5678", "", ""],
        ["", "", "高橋", "", "bad", "", "", ""],
    ]
    header = ["会社名", "セイ", "メイ", "姓", "名", "E-mail", "電話番号", "携帯電話", "役職"]

    def run(company, fast):
        monkeypatch.setattr(runner, "FAST_PATH", fast)
        rows = [[company, *p] for p in people]
        for row in rows:
            if "@" in row[5]:
                local, _at, domain = row[5].partition("@")
                row[5] = f"{local}.{'f' if fast else 's'}@{domain}"
        job = import_job_create(
            actor=kam,
            file=io.BytesIO(csv_bytes([header, *rows])),
            name="p.csv",
            target="contacts",
            preset="cards",
        )
        return import_job_run(job_id=job.pk)

    fast_job, slow_job = run("株式会社速い", True), run("株式会社遅い", False)
    assert results(fast_job) == results(slow_job)
    fast = list(Contact.objects.filter(account=fast_account).order_by("pk"))
    slow = list(Contact.objects.filter(account=slow_account).order_by("pk"))
    assert len(fast) == len(slow) == 3  # the fourth person is the first again: merged

    def comparable(contact):
        values = {f: getattr(contact, f) for f in CONTACT_FIELDS}
        values["email"] = values["email"].replace(".f@", "@").replace(".s@", "@")
        values["email_key"] = values["email_key"].replace(".f@", "@").replace(".s@", "@")
        values["search_text"] = values["search_text"].replace(".f@", "@").replace(".s@", "@")
        return values

    assert [comparable(c) for c in fast] == [comparable(c) for c in slow]

    def events(contacts):
        found = []
        for contact in contacts:
            event = AuditEvent.objects.get(
                action="accounts.contact.created", target_id=str(contact.pk)
            )
            changes = {
                k: [a, b.replace(".f@", "@").replace(".s@", "@") if isinstance(b, str) else b]
                for k, (a, b) in event.changes.items()
            }
            found.append((event.actor_id, event.target_type, event.target_repr, changes))
            assert event.scope == f"account:{contact.account_id}"
        return found

    assert events(fast) == events(slow)
