import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokui.accounts.models import Account
from tokui.core.models import AuditEvent


@pytest.fixture
def kam_client(client, kam):
    client.force_login(kam)
    return client


def _form_data(account, **changes):
    data = {
        "version": account.version,
        "name": account.name,
        "name_kana": account.name_kana,
        "legal_form": account.legal_form,
        "legal_form_position": account.legal_form_position,
        "kind": account.kind,
        "tier": account.tier,
        "rank": account.rank,
        "owner": account.owner_id,
        "industry": account.industry,
        "employees": account.employees or "",
        "entity_type": account.entity_type,
        "corporate_number": account.corporate_number or "",
        "invoice_registration_number": account.invoice_registration_number,
        "website": account.website,
        "phone": account.phone,
        "fax": account.fax,
        "postal_code": account.postal_code,
        "prefecture": account.prefecture,
        "city": account.city,
        "street": account.street,
        "building": account.building,
        "notes": account.notes,
    }
    data.update(changes)
    return data


def test_pages_need_a_signed_in_user(client):
    response = client.get(reverse("accounts:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_account_list_searches_and_pages(kam_client, kam, make_account):
    for i in range(55):
        make_account(kam, name=f"株式会社テスト{i:02d}")
    make_account(kam, name="株式会社山田商事", name_kana="ヤマダショウジ")
    page1 = kam_client.get(reverse("accounts:index"))
    assert page1.status_code == 200
    assert "1–50 of 56" in page1.text
    page2 = kam_client.get(reverse("accounts:index"), {"page": 2})
    assert "51–56 of 56" in page2.text
    found = kam_client.get(reverse("accounts:index"), {"q": "やまだ"})
    assert "株式会社山田商事" in found.text
    assert "株式会社テスト01" not in found.text


def test_account_list_answers_htmx_with_the_rows_only(kam_client, kam, make_account):
    make_account(kam, name="株式会社山田商事")
    response = kam_client.get(
        reverse("accounts:index"), {"q": "山田"}, headers={"HX-Request": "true"}
    )
    assert "株式会社山田商事" in response.text
    assert "<html" not in response.text


def test_account_list_query_count_does_not_grow_with_rows(kam_client, kam, make_account):
    make_account(kam)
    with CaptureQueriesContext(connection) as small:
        kam_client.get(reverse("accounts:index"))
    for _ in range(20):
        make_account(kam)
    with CaptureQueriesContext(connection) as large:
        kam_client.get(reverse("accounts:index"))
    assert len(large.captured_queries) == len(small.captured_queries)


@pytest.mark.parametrize("junk", ["abc", "-5", "99999999999999999999", "1e9"])
def test_junk_paging_and_sorting_never_break_the_page(kam_client, junk):
    response = kam_client.get(reverse("accounts:index"), {"page": junk, "sort": junk, "kind": junk})
    assert response.status_code == 200


def test_another_teams_account_is_404_everywhere(kam_client, west_am, make_account, make_contact):
    account = make_account(west_am, name="株式会社西日本")
    contact = make_contact(account)
    for url in (
        reverse("accounts:detail", args=[account.pk]),
        reverse("accounts:edit", args=[account.pk]),
        reverse("accounts:contact_create", args=[account.pk]),
        reverse("accounts:contact_detail", args=[contact.pk]),
        reverse("accounts:contact_edit", args=[contact.pk]),
    ):
        assert kam_client.get(url).status_code == 404, url
    assert kam_client.post(reverse("accounts:archive", args=[account.pk])).status_code == 404
    assert "株式会社西日本" not in kam_client.get(reverse("accounts:index"), {"q": "西日本"}).text
    account.refresh_from_db()
    assert account.archived_at is None


def test_support_reads_but_gets_403_on_edit(client, support, kam, make_account):
    account = make_account(kam)
    client.force_login(support)
    assert client.get(reverse("accounts:detail", args=[account.pk])).status_code == 200
    response = client.get(reverse("accounts:edit", args=[account.pk]))
    assert response.status_code == 403
    assert "read accounts but not change" in response.text
    assert client.post(reverse("accounts:create"), {"name": "x"}).status_code == 403


def test_edit_saves_and_shows_the_change_in_history(kam_client, kam, make_account):
    account = make_account(kam, name="株式会社旧名", industry="卸売業")
    response = kam_client.post(
        reverse("accounts:edit", args=[account.pk]), _form_data(account, industry="製造業")
    )
    assert response.status_code == 302
    detail = kam_client.get(reverse("accounts:detail", args=[account.pk]))
    assert "Account changed" in detail.text
    assert "卸売業" in detail.text and "製造業" in detail.text


def test_bad_input_shows_errors_next_to_fields_and_saves_nothing(kam_client, kam, make_account):
    account = make_account(kam, name="株式会社元")
    response = kam_client.post(
        reverse("accounts:edit", args=[account.pk]),
        _form_data(
            account,
            name="株" * 250,
            corporate_number="1234567890123",
            phone="123",
            notes="<script>alert('x')</script>",
        ),
    )
    assert response.status_code == 422
    assert "Nothing was saved" in response.text
    assert "at most 200 characters" in response.text
    assert "<script>alert" not in response.text  # echoed input is escaped
    account.refresh_from_db()
    assert account.name == "株式会社元"
    assert AuditEvent.objects.filter(action="accounts.account.updated").count() == 0
    response = kam_client.post(
        reverse("accounts:edit", args=[account.pk]),
        _form_data(account, corporate_number="1234567890123", phone="123", notes="<b>hi</b>"),
    )
    assert response.status_code == 422
    assert "check digit" in response.text
    assert "not a valid phone number" in response.text
    assert "plain text" in response.text


def test_stale_edit_in_the_browser_is_refused(kam_client, kam, am, make_account):
    from tokui.accounts.services import account_update

    account = make_account(kam, industry="卸売業")
    stale = _form_data(account, industry="製造業")
    account_update(actor=am, account=account, data={"industry": "小売業"})
    response = kam_client.post(reverse("accounts:edit", args=[account.pk]), stale)
    assert response.status_code == 422
    assert "while you were editing" in response.text
    account.refresh_from_db()
    assert account.industry == "小売業"


def test_a_foreign_owner_cannot_be_posted(kam_client, kam, west_am, make_account):
    account = make_account(kam)
    response = kam_client.post(
        reverse("accounts:edit", args=[account.pk]), _form_data(account, owner=west_am.pk)
    )
    assert response.status_code == 422
    account.refresh_from_db()
    assert account.owner == kam


def test_create_account_and_contact_from_pages(kam_client, kam):
    response = kam_client.post(
        reverse("accounts:create"),
        {
            "name": "合同会社新規",
            "name_kana": "シンキ",
            "kind": "prospect",
            "tier": "standard",
            "owner": kam.pk,
            "phone": "052-123-4567",
            "entity_type": "corporation",
        },
    )
    assert response.status_code == 302
    account = Account.objects.get(name="合同会社新規")
    response = kam_client.post(
        reverse("accounts:contact_create", args=[account.pk]),
        {"family_name": "佐藤", "given_name": "一郎", "email": "sato@example.co.jp"},
    )
    assert response.status_code == 302
    assert account.contacts.get().email == "sato@example.co.jp"


def test_notes_with_html_are_shown_as_text(kam_client, kam, make_account):
    account = make_account(kam, notes="価格 < 100 & 納期 > 3日")
    detail = kam_client.get(reverse("accounts:detail", args=[account.pk]))
    assert "価格 &lt; 100 &amp; 納期 &gt; 3日" in detail.text


def test_archive_from_the_page(kam_client, kam, make_account):
    account = make_account(kam)
    response = kam_client.post(reverse("accounts:archive", args=[account.pk]), follow=True)
    assert "archived" in response.text
    account.refresh_from_db()
    assert account.is_archived
    assert kam_client.get(reverse("accounts:index")).text.count(account.name) == 0


FORM_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    data=st.fixed_dictionaries(
        {
            "name": FORM_TEXT,
            "name_kana": FORM_TEXT,
            "kind": FORM_TEXT,
            "tier": FORM_TEXT,
            "owner": FORM_TEXT,
            "corporate_number": FORM_TEXT,
            "phone": FORM_TEXT,
            "fax": FORM_TEXT,
            "postal_code": FORM_TEXT,
            "website": FORM_TEXT,
            "notes": FORM_TEXT,
            "version": FORM_TEXT,
        }
    )
)
def test_no_input_breaks_the_account_forms(kam_client, kam, data):
    before = Account.objects.count()
    response = kam_client.post(reverse("accounts:create"), data)
    assert response.status_code in (302, 422)
    if response.status_code == 422:
        assert Account.objects.count() == before


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    data=st.fixed_dictionaries(
        {
            "family_name": FORM_TEXT,
            "given_name": FORM_TEXT,
            "family_name_kana": FORM_TEXT,
            "email": FORM_TEXT,
            "phone": FORM_TEXT,
            "mobile": FORM_TEXT,
            "marketing_consent": FORM_TEXT,
        }
    )
)
def test_no_input_breaks_the_contact_form(kam_client, kam, make_account, data):
    account = Account.objects.first() or make_account(kam)
    response = kam_client.post(reverse("accounts:contact_create", args=[account.pk]), data)
    assert response.status_code in (302, 422)


def test_contact_list_counts_up_to_a_limit_and_then_says_more_than(
    kam_client, kam, make_account, make_contact, settings
):
    settings.TOKUI_CONTACT_COUNT_LIMIT = 3
    settings.TOKUI_PAGE_SIZE = 2
    account = make_account(kam)
    for i in range(5):
        make_contact(account, family_name=f"試験{i}")
    first = kam_client.get(reverse("accounts:contact_index"))
    assert "1–2 of more than 3" in first.text
    assert 'rel="next"' in first.text
    last = kam_client.get(reverse("accounts:contact_index"), {"page": 3})
    assert "試験4" in last.text
    assert 'rel="next"' not in last.text  # a short page is the last one
    settings.TOKUI_CONTACT_COUNT_LIMIT = 10
    exact = kam_client.get(reverse("accounts:contact_index"))
    assert "1–2 of 5" in exact.text
