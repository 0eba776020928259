import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.accounts.imports.conftest import csv_bytes
from tokui.accounts.models import Contact, ImportJob

ROWS = [
    ["Company", "Family", "Given", "Mail"],
    ["株式会社山田商事", "山田", "太郎", "taro@yamada.example.jp"],
    ["株式会社山田商事", "佐藤", "花子", "=cmd|' /C calc'!A0"],
]


@pytest.fixture
def kam_client(client, kam):
    client.force_login(kam)
    return client


def _upload(client, data=None, **fields):
    body = {
        "file": SimpleUploadedFile(
            "people.csv", csv_bytes(ROWS) if data is None else data, "text/csv"
        ),
        "target": "contacts",
        "preset": "",
        "mode": "create",
        "encoding": "auto",
        **fields,
    }
    return client.post(reverse("accounts:import_new"), body)


def test_the_account_list_links_to_imports(kam_client):
    page = kam_client.get(reverse("accounts:index"))
    assert reverse("accounts:import_index") in page.text


def test_upload_mapping_run_and_report(kam_client, django_capture_on_commit_callbacks):
    response = _upload(kam_client)
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:import_mapping", args=[job.pk])

    mapping_page = kam_client.get(response["Location"])
    assert mapping_page.status_code == 200
    assert "taro@yamada.example.jp" in mapping_page.text  # the preview
    assert "=cmd|&#x27; /C calc&#x27;!A0" in mapping_page.text  # shown as text, escaped

    choices = {
        "column_0": "account",
        "column_1": "family_name",
        "column_2": "given_name",
        "column_3": "email",
    }
    with django_capture_on_commit_callbacks(execute=True):
        run = kam_client.post(response["Location"], choices)
    assert run.status_code == 302
    assert run["Location"] == reverse("accounts:import_detail", args=[job.pk])
    job.refresh_from_db()
    assert job.mapping == {
        "Company": "account",
        "Family": "family_name",
        "Given": "given_name",
        "Mail": "email",
    }
    assert (job.status, job.created_count, job.rejected_count) == ("done", 1, 1)
    assert Contact.objects.get().email == "taro@yamada.example.jp"

    detail = kam_client.get(run["Location"])
    assert "Download the report" in detail.text
    assert "is not a valid e-mail address" in detail.text
    assert 'hx-trigger="every 1s"' not in detail.text  # finished: no more polling

    report = kam_client.get(reverse("accounts:import_report", args=[job.pk]))
    body = b"".join(report.streaming_content).decode("utf-8")
    assert body.startswith("\ufeffRow,Outcome,Message,Record ID")
    assert "3,Rejected" in body
    assert "Created account “株式会社山田商事”." in body
    assert ",'E-mail" not in body


def test_the_progress_partial_polls_while_the_import_runs(kam_client, kam):
    response = _upload(kam_client)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status="running", total_rows=200, processed_rows=50)
    partial = kam_client.get(
        reverse("accounts:import_detail", args=[job.pk]), headers={"HX-Request": "true"}
    )
    assert "<html" not in partial.text
    assert 'hx-trigger="every 1s"' in partial.text
    assert '<progress class="import-progress" max="100" value="25">' in partial.text
    assert "50 of 200 rows" in partial.text
    assert response.status_code == 302


def test_upload_errors_are_shown_and_nothing_is_kept(kam_client):
    response = _upload(kam_client, data=csv_bytes([["a", "a"], ["1", "2"]]))
    assert response.status_code == 422
    assert "appear more than once" in response.text
    empty = _upload(kam_client, data=b"")
    assert empty.status_code == 422
    assert "empty" in empty.text
    assert not ImportJob.objects.exists()


def test_a_wrong_mapping_is_refused_before_the_run(kam_client):
    response = _upload(kam_client)
    job = ImportJob.objects.get()
    refused = kam_client.post(
        response["Location"],
        {"column_0": "account", "column_1": "family_name", "column_2": "family_name"},
    )
    assert refused.status_code == 422
    assert "all go to" in refused.text
    job.refresh_from_db()
    assert job.status == "pending"
    assert not Contact.objects.exists()


def test_an_import_is_private_to_its_creator(kam_client, client, am):
    _upload(kam_client)
    job = ImportJob.objects.get()
    client.force_login(am)
    for name in ("import_detail", "import_mapping", "import_report"):
        assert client.get(reverse(f"accounts:{name}", args=[job.pk])).status_code == 404
    assert job.original_name not in client.get(reverse("accounts:import_index")).text


def test_support_cannot_upload(client, support):
    client.force_login(support)
    assert client.get(reverse("accounts:import_new")).status_code == 403
    assert reverse("accounts:import_index") not in client.get(reverse("accounts:index")).text


def test_a_failed_import_can_be_resumed(kam_client, django_capture_on_commit_callbacks):
    response = _upload(kam_client)
    job = ImportJob.objects.get()
    assert response.status_code == 302
    ImportJob.objects.filter(pk=job.pk).update(
        status="failed",
        error="The import stopped after 0 rows because of an unexpected error.",
        mapping={"Company": "account", "Family": "family_name", "Mail": "email"},
    )
    page = kam_client.get(reverse("accounts:import_detail", args=[job.pk]))
    assert "Resume the import" in page.text
    with django_capture_on_commit_callbacks(execute=True):
        kam_client.post(reverse("accounts:import_resume", args=[job.pk]))
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", 1)
