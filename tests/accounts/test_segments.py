import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tokui.accounts.models import Segment
from tokui.accounts.segments import (
    account_set_tags,
    segment_create,
    segment_delete,
    segment_get,
    segment_list,
    segment_update,
)
from tokui.accounts.selectors import account_list, contact_list
from tokui.core.exceptions import ApplicationError, NotFound, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.users.services import api_token_create

FILTERS = {"prefecture": ["東京都", "神奈川県"], "industry": ["製造業"]}


@pytest.fixture
def book(kam, am, west_am, make_account, make_contact):
    """Accounts of kam's team (East) and of the West team, with sizes, ranks and tags."""
    accounts = {
        "tokyo_maker": make_account(
            kam,
            name="東京精機株式会社",
            industry="精密機械器具製造業",
            prefecture="東京都",
            employees=500,
            rank="A",
        ),
        "kanagawa_maker": make_account(
            am, name="横浜工業株式会社", industry="製造業", prefecture="神奈川県", employees=120
        ),
        "tokyo_trader": make_account(
            kam, name="東京商事株式会社", industry="卸売業", prefecture="東京都", rank="S"
        ),
        "osaka_maker": make_account(
            kam, name="大阪金属株式会社", industry="金属製品製造業", prefecture="大阪府"
        ),
        "west_maker": make_account(
            west_am,
            name="西東京製作所株式会社",
            industry="製造業",
            prefecture="東京都",
            employees=900,
            rank="A",
        ),
    }
    for account in accounts.values():
        make_contact(account)
    account_set_tags(actor=kam, account=accounts["tokyo_trader"], names=["展示会2026"])
    account_set_tags(actor=west_am, account=accounts["west_maker"], names=["展示会2026"])
    return accounts


def _names(qs):
    return sorted(a.name for a in qs)


# Services ------------------------------------------------------------------------------------


def test_a_segment_is_saved_in_its_canonical_shape_and_audited(kam):
    segment = segment_create(
        actor=kam,
        name="  首都圏の製造業 ",
        filters={"prefecture": "東京都、神奈川県", "industry": ["製造業"], "employees_min": "300"},
    )
    assert segment.name == "首都圏の製造業"
    assert segment.owner == kam
    assert segment.filters == {
        "industry": ["製造業"],
        "prefecture": ["東京都", "神奈川県"],
        "employees_min": 300,
    }
    event = AuditEvent.objects.get(action="accounts.segment.created")
    assert event.actor == kam
    assert event.changes["filters"][1] == segment.filters


@pytest.mark.parametrize(
    ("name", "filters", "field"),
    [
        ("", FILTERS, "name"),
        ("名前" * 51, FILTERS, "name"),
        ("x", {}, "filters"),
        ("x", {"colour": ["red"]}, "filters"),
        ("x", {"kind": ["friend"]}, "kind"),
        ("x", {"prefecture": ["東京"]}, "prefecture"),
        ("x", {"rank": ["Z"]}, "rank"),
        ("x", {"employees_min": 500, "employees_max": 100}, "employees_max"),
        ("x", {"employees_min": -1}, "employees_min"),
        ("x", {"employees_min": True}, "employees_min"),
        ("x", {"tag": ["長" * 51]}, "tag"),
        ("x", {"owner": "nobody"}, "owner"),
        ("x", {"search": "a\x00b"}, "search"),
        ("x", "prefecture=東京都", "filters"),
    ],
)
def test_invalid_segments_are_refused_and_nothing_is_saved(kam, name, filters, field):
    with pytest.raises(ApplicationError) as exc:
        segment_create(actor=kam, name=name, filters=filters)
    assert field in exc.value.errors
    assert not Segment.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="accounts.segment").exists()


def test_every_problem_is_reported_at_once(kam):
    with pytest.raises(ApplicationError) as exc:
        segment_create(actor=kam, name="", filters={"kind": ["friend"], "rank": ["Z"]})
    assert set(exc.value.errors) == {"name", "kind", "rank"}


def test_one_owner_cannot_have_two_segments_of_one_name(kam, am):
    segment_create(actor=kam, name="重点", filters={"tier": ["key"]})
    with pytest.raises(ApplicationError) as exc:
        segment_create(actor=kam, name="重点", filters={"rank": ["A"]})
    assert "name" in exc.value.errors
    segment_create(actor=am, name="重点", filters={"rank": ["A"]})  # another owner may
    assert Segment.objects.count() == 2


def test_support_reads_segments_but_saves_none(kam, support):
    shared = segment_create(actor=kam, name="共有", filters={"tier": ["key"]}, shared=True)
    with pytest.raises(PermissionDenied):
        segment_create(actor=support, name="私の", filters={"tier": ["key"]})
    assert list(segment_list(viewer=support)) == [shared]


def test_lists_hold_own_and_shared_segments_only(kam, am, head):
    mine = segment_create(actor=kam, name="B 自分の", filters={"tier": ["key"]})
    shared = segment_create(actor=head, name="A 共有", filters={"rank": ["A"]}, shared=True)
    private = segment_create(actor=am, name="C 他人の", filters={"rank": ["B"]})
    assert list(segment_list(viewer=kam)) == [shared, mine]
    assert segment_get(viewer=kam, segment_id=shared.pk) == shared
    with pytest.raises(NotFound):
        segment_get(viewer=kam, segment_id=private.pk)


def test_the_owner_changes_and_deletes_a_segment_with_audit(kam):
    segment = segment_create(actor=kam, name="旧名", filters={"tier": ["key"]})
    segment_update(
        actor=kam, segment=segment, data={"name": "新名", "shared": True, "filters": {"rank": "A"}}
    )
    segment.refresh_from_db()
    assert (segment.name, segment.shared, segment.filters) == ("新名", True, {"rank": ["A"]})
    event = AuditEvent.objects.get(action="accounts.segment.updated")
    assert event.changes["name"] == ["旧名", "新名"]
    assert event.changes["filters"] == [{"tier": ["key"]}, {"rank": ["A"]}]
    segment_delete(actor=kam, segment=segment)
    assert not Segment.objects.exists()
    deleted = AuditEvent.objects.get(action="accounts.segment.deleted")
    assert deleted.changes["name"] == ["新名", None]


def test_an_invalid_change_changes_nothing(kam):
    segment = segment_create(actor=kam, name="名前", filters={"tier": ["key"]})
    with pytest.raises(ApplicationError):
        segment_update(
            actor=kam, segment=segment, data={"name": "新しい名前", "filters": {"rank": ["Z"]}}
        )
    segment.refresh_from_db()
    assert (segment.name, segment.filters) == ("名前", {"tier": ["key"]})
    assert not AuditEvent.objects.filter(action="accounts.segment.updated").exists()


def test_others_cannot_change_a_shared_segment_nor_see_a_private_one(kam, am, head, admin_user):
    shared = segment_create(actor=head, name="共有", filters={"tier": ["key"]}, shared=True)
    private = segment_create(actor=am, name="非公開", filters={"tier": ["key"]})
    with pytest.raises(PermissionDenied):
        segment_update(actor=kam, segment=shared, data={"name": "乗っ取り"})
    with pytest.raises(PermissionDenied):
        segment_delete(actor=kam, segment=shared)
    with pytest.raises(NotFound):
        segment_update(actor=kam, segment=private, data={"name": "乗っ取り"})
    with pytest.raises(NotFound):
        segment_delete(actor=kam, segment=private)
    assert Segment.objects.filter(name__in=["共有", "非公開"]).count() == 2
    # An administrator may tidy up shared segments.
    segment_delete(actor=admin_user, segment=shared)
    assert not Segment.objects.filter(pk=shared.pk).exists()


# Filters in the selectors --------------------------------------------------------------------


def test_the_new_list_filters(book, kam):
    assert _names(account_list(viewer=kam, industry="製造業")) == [
        "大阪金属株式会社",
        "東京精機株式会社",
        "横浜工業株式会社",
    ]
    assert _names(account_list(viewer=kam, prefecture=["東京都", "神奈川県"])) == [
        "東京商事株式会社",
        "東京精機株式会社",
        "横浜工業株式会社",
    ]
    assert _names(account_list(viewer=kam, employees_min=300)) == ["東京精機株式会社"]
    assert _names(account_list(viewer=kam, employees_max=300)) == ["横浜工業株式会社"]
    assert _names(account_list(viewer=kam, rank=["S", "A"])) == [
        "東京商事株式会社",
        "東京精機株式会社",
    ]
    assert _names(account_list(viewer=kam, tag="展示会2026")) == ["東京商事株式会社"]


def test_a_segment_narrows_the_list_and_the_other_filters_narrow_it_further(book, kam):
    segment = segment_create(actor=kam, name="首都圏の製造業", filters=FILTERS)
    assert _names(account_list(viewer=kam, segment=segment)) == [
        "東京精機株式会社",
        "横浜工業株式会社",
    ]
    assert _names(account_list(viewer=kam, segment=segment.pk, search="東京")) == [
        "東京精機株式会社"
    ]
    contacts = contact_list(viewer=kam, segment=segment.pk)
    assert sorted(c.account.name for c in contacts) == ["東京精機株式会社", "横浜工業株式会社"]


def test_a_shared_segment_does_not_widen_anyones_view(book, head, kam):
    # The head's segment names the West team's account by owner, search and tag …
    segment = segment_create(
        actor=head,
        name="西の展示会",
        filters={"owner": "west", "tag": ["展示会2026"], "search": "西東京"},
        shared=True,
    )
    assert _names(account_list(viewer=head, segment=segment)) == ["西東京製作所株式会社"]
    # … and still shows kam nothing kam may not see.
    assert not account_list(viewer=kam, segment=segment).exists()
    assert not contact_list(viewer=kam, segment=segment).exists()
    wide = segment_create(
        actor=head, name="東京都", filters={"prefecture": ["東京都"]}, shared=True
    )
    assert "西東京製作所株式会社" not in _names(account_list(viewer=kam, segment=wide))


def test_using_another_users_private_segment_is_a_404(book, am, kam):
    private = segment_create(actor=am, name="非公開", filters={"tier": ["key"]})
    with pytest.raises(NotFound):
        account_list(viewer=kam, segment=private.pk)
    with pytest.raises(NotFound):
        account_list(viewer=kam, segment=private)  # an instance is checked as well
    with pytest.raises(NotFound):
        contact_list(viewer=kam, segment=private.pk)


# Pages ---------------------------------------------------------------------------------------


@pytest.fixture
def kam_client(client, kam):
    client.force_login(kam)
    return client


def test_the_list_applies_a_segment_and_shows_what_it_holds(book, kam_client, kam):
    segment = segment_create(actor=kam, name="首都圏の製造業", filters=FILTERS)
    response = kam_client.get(reverse("accounts:index"), {"segment": segment.pk})
    assert response.status_code == 200
    assert "東京精機株式会社" in response.text
    assert "東京商事株式会社" not in response.text
    assert "Segment: 首都圏の製造業" in response.text
    assert "東京都, 神奈川県" in response.text
    assert f'<option value="{segment.pk}" selected>' in response.text
    assert "More filters" in response.text


def test_the_extra_filters_work_on_the_page_and_junk_is_ignored(book, kam_client):
    response = kam_client.get(
        reverse("accounts:index"),
        {"industry": "製造業", "prefecture": "東京都", "employees_min": "100", "rank": "A"},
    )
    assert "東京精機株式会社" in response.text
    assert "横浜工業株式会社" not in response.text
    assert '<details class="more-filters" open>' in response.text
    junk = kam_client.get(
        reverse("accounts:index"),
        {"employees_min": "lots", "rank": "Z", "prefecture": "Atlantis", "segment": "x"},
    )
    assert junk.status_code == 200
    assert "大阪金属株式会社" in junk.text


def test_another_users_private_segment_is_a_404_on_the_page(book, kam_client, am):
    private = segment_create(actor=am, name="非公開", filters={"tier": ["key"]})
    response = kam_client.get(reverse("accounts:index"), {"segment": private.pk})
    assert response.status_code == 404


def test_htmx_filtering_refreshes_the_export_links_and_the_save_form(book, kam_client):
    response = kam_client.get(
        reverse("accounts:index"), {"q": "東京", "rank": "A"}, headers={"HX-Request": "true"}
    )
    assert "<html" not in response.text
    assert 'id="export-accounts" class="actions export-links" hx-swap-oob="true"' in response.text
    assert "/accounts/export.csv?q=%E6%9D%B1%E4%BA%AC&amp;rank=A" in response.text
    assert 'id="segment-bar" class="segment-bar" hx-swap-oob="true"' in response.text
    assert '<input type="hidden" name="rank" value="A">' in response.text


def test_save_as_segment_saves_the_filters_shown(book, kam_client, kam):
    response = kam_client.post(
        reverse("accounts:segment_save"),
        {"name": "東京の A", "q": "東京", "prefecture": "東京都", "rank": "A", "shared": "1"},
    )
    segment = Segment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:index')}?segment={segment.pk}"
    assert segment.owner == kam
    assert segment.shared is True
    assert segment.filters == {"search": "東京", "prefecture": ["東京都"], "rank": ["A"]}


def test_save_as_segment_on_top_of_a_segment_keeps_its_filters(book, kam_client, kam):
    base = segment_create(actor=kam, name="首都圏の製造業", filters=FILTERS)
    kam_client.post(
        reverse("accounts:segment_save"),
        {"name": "首都圏の大きな製造業", "segment": base.pk, "employees_min": "300"},
    )
    saved = Segment.objects.get(name="首都圏の大きな製造業")
    assert saved.filters == {**FILTERS, "employees_min": 300}


def test_save_as_segment_without_a_name_saves_nothing_and_says_why(book, kam_client):
    response = kam_client.post(
        reverse("accounts:segment_save"), {"name": " ", "rank": "A"}, follow=True
    )
    assert not Segment.objects.exists()
    assert "The segment was not saved: Enter a name for the segment." in response.text
    assert response.redirect_chain[-1][0] == f"{reverse('accounts:index')}?rank=A"


def test_support_gets_no_save_form_and_may_not_post_one(book, client, support, head):
    segment_create(actor=head, name="共有", filters={"rank": ["A"]}, shared=True)
    client.force_login(support)
    page = client.get(reverse("accounts:index"), {"rank": "A"})
    assert "Save as segment" not in page.text
    assert "共有" in page.text  # the shared segment can be used
    response = client.post(reverse("accounts:segment_save"), {"name": "私の", "rank": "A"})
    assert response.status_code == 403
    assert Segment.objects.count() == 1


def test_the_segments_page_lists_and_edits_and_deletes(book, kam_client, kam, head):
    mine = segment_create(actor=kam, name="首都圏の製造業", filters=FILTERS)
    shared = segment_create(
        actor=head, name="重点取引先", filters={"rank": ["S", "A"]}, shared=True
    )
    page = kam_client.get(reverse("accounts:segment_index"))
    assert page.status_code == 200
    assert "首都圏の製造業" in page.text and "重点取引先" in page.text
    assert reverse("accounts:segment_edit", args=[mine.pk]) in page.text
    assert reverse("accounts:segment_edit", args=[shared.pk]) not in page.text

    form = kam_client.get(reverse("accounts:segment_edit", args=[mine.pk]))
    assert form.status_code == 200
    assert "製造業" in form.text
    saved = kam_client.post(
        reverse("accounts:segment_edit", args=[mine.pk]),
        {
            "name": "首都圏の大手製造業",
            "prefecture": ["東京都", "神奈川県"],
            "industry": "製造業",
            "employees_min": "300",
        },
    )
    assert saved.status_code == 302
    mine.refresh_from_db()
    assert mine.name == "首都圏の大手製造業"
    assert mine.filters == {**FILTERS, "employees_min": 300}

    assert kam_client.get(reverse("accounts:segment_edit", args=[shared.pk])).status_code == 403
    deleted = kam_client.post(reverse("accounts:segment_delete", args=[mine.pk]))
    assert deleted.status_code == 302
    assert list(Segment.objects.all()) == [shared]


def test_an_invalid_edit_is_explained_next_to_the_field(book, kam_client, kam):
    mine = segment_create(actor=kam, name="首都圏", filters=FILTERS)
    response = kam_client.post(
        reverse("accounts:segment_edit", args=[mine.pk]),
        {"name": "首都圏", "employees_min": "500", "employees_max": "100"},
    )
    assert response.status_code == 422
    assert "The upper bound is below the lower bound." in response.text
    mine.refresh_from_db()
    assert mine.filters == FILTERS


def test_a_new_segment_from_the_segments_page(kam_client):
    response = kam_client.post(
        reverse("accounts:segment_create"), {"name": "A ランク", "rank": ["S", "A"]}
    )
    assert response.status_code == 302
    assert Segment.objects.get().filters == {"rank": ["S", "A"]}
    empty = kam_client.post(reverse("accounts:segment_create"), {"name": "何もなし"})
    assert empty.status_code == 422
    assert "Choose at least one filter" in empty.text


def test_the_segments_page_query_count_does_not_grow(kam_client, kam, head):
    segment_create(actor=kam, name="s0", filters={"rank": ["A"]})
    with CaptureQueriesContext(connection) as small:
        kam_client.get(reverse("accounts:segment_index"))
    for i in range(1, 8):
        segment_create(actor=head, name=f"s{i}", filters={"rank": ["A"]}, shared=True)
    with CaptureQueriesContext(connection) as large:
        kam_client.get(reverse("accounts:segment_index"))
    assert len(large.captured_queries) == len(small.captured_queries)


# API -----------------------------------------------------------------------------------------


class Api:
    def __init__(self, client, user):
        key = api_token_create(actor=user, user=user)[1]
        self.client, self.headers = client, {"Authorization": f"Bearer {key}"}

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def send(self, method, path, body):
        return getattr(self.client, method)(
            f"/api/v1{path}",
            json.dumps(body),
            content_type="application/json",
            headers=self.headers,
        )


def test_the_api_creates_lists_changes_and_deletes_segments(book, client, kam):
    api = Api(client, kam)
    created = api.send("post", "/segments", {"name": "首都圏の製造業", "filters": FILTERS})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["owner"] == "kam" and body["shared"] is False
    assert body["filters"]["prefecture"] == ["東京都", "神奈川県"]
    assert body["filters"]["rank"] is None
    listed = api.get("/segments").json()
    assert listed["count"] == 1
    patched = api.send(
        "patch", f"/segments/{body['id']}", {"shared": True, "filters": {"rank": ["A"]}}
    )
    assert patched.status_code == 200
    assert patched.json()["filters"]["rank"] == ["A"]
    assert patched.json()["filters"]["prefecture"] is None
    assert api.send("delete", f"/segments/{body['id']}", None).status_code == 204
    assert api.get(f"/segments/{body['id']}").status_code == 404


def test_the_api_refuses_bad_segments_in_the_common_error_shape(client, kam):
    api = Api(client, kam)
    response = api.send(
        "post", "/segments", {"name": "x", "filters": {"prefecture": ["東京"], "employees_min": 5}}
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "prefecture": ["“東京” is not one of the choices."]
    }
    unknown = api.send("post", "/segments", {"name": "x", "filters": {"colour": ["red"]}})
    assert unknown.status_code == 422
    assert not Segment.objects.exists()


def test_the_api_hides_private_segments_of_others(book, client, kam, am):
    private = segment_create(actor=am, name="非公開", filters={"tier": ["key"]})
    api = Api(client, kam)
    assert api.get(f"/segments/{private.pk}").status_code == 404
    assert api.send("patch", f"/segments/{private.pk}", {"name": "x"}).status_code == 404
    assert api.get("/accounts", segment=private.pk).status_code == 404
    assert api.get("/segments").json()["count"] == 0


def test_the_api_lists_take_the_new_filters(book, client, kam):
    api = Api(client, kam)

    def names(path, **params):
        response = api.get(path, **params)
        assert response.status_code == 200, response.content
        return sorted(item.get("name") or item["account_name"] for item in response.json()["items"])

    assert names("/accounts", industry="製造業", prefecture="東京都") == ["東京精機株式会社"]
    assert names("/accounts", employees_min=100, employees_max=200) == ["横浜工業株式会社"]
    assert names("/accounts", rank="S") == ["東京商事株式会社"]
    assert names("/accounts", tag="展示会2026") == ["東京商事株式会社"]
    segment = segment_create(actor=kam, name="首都圏の製造業", filters=FILTERS)
    assert names("/accounts", segment=segment.pk) == ["東京精機株式会社", "横浜工業株式会社"]
    assert names("/contacts", segment=segment.pk) == ["東京精機株式会社", "横浜工業株式会社"]
    assert names("/contacts", tag="展示会2026") == ["東京商事株式会社"]
    assert api.get("/accounts", rank="Z").status_code == 422


# Demo ----------------------------------------------------------------------------------------


def test_the_demo_tags_accounts_and_saves_segments_once(db):
    from tokui.accounts.models import Account
    from tokui.web.demo import demo_load
    from tokui.web.demo_segments import demo_segments

    demo_load(accounts=60)
    demo_segments(stdout=io.StringIO())  # demo_load calls it too; once or twice is the same
    live = Account.objects.filter(archived_at__isnull=True)
    tagged = live.filter(pk__in=Account.tags.through.objects.values("account_id")).count()
    assert 0.15 * live.count() <= tagged <= 0.45 * live.count()
    assert {(s.owner.username, s.name) for s in Segment.objects.all()} == {
        ("kam", "首都圏の製造業"),
        ("kam", "展示会2026 フォロー"),
        ("head", "重点取引先 Aランク以上"),
        ("head", "従業員300名以上"),
    }
    head = Segment.objects.get(name="従業員300名以上").owner
    for segment in Segment.objects.all():
        # Every demo segment shows its owner something.
        assert account_list(viewer=segment.owner, segment=segment).exists(), segment.name
    assert account_list(viewer=head, rank=["S", "A"]).exists()
    events = AuditEvent.objects.count()
    demo_segments(stdout=io.StringIO())  # again: nothing changes
    assert AuditEvent.objects.count() == events
    assert Segment.objects.count() == 4


def test_the_demo_segments_need_the_demo_users(db):
    from tokui.web.demo_segments import demo_segments

    out = io.StringIO()
    demo_segments(stdout=out)
    assert "load the demo first" in out.getvalue()
    assert not Segment.objects.exists()
