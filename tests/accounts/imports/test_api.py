import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.accounts.imports.conftest import csv_bytes
from tokui.accounts.models import Account, ImportJob
from tokui.users.services import api_token_create

ROWS = [["会社名", "電話番号"], ["株式会社A", "03-1234-5678"], ["株式会社B", "12"]]


def bearer(user):
    return {"Authorization": f"Bearer {api_token_create(actor=user, user=user)[1]}"}


def upload(client, user, data, **fields):
    body = {"file": SimpleUploadedFile("accounts.csv", data, "text/csv"), **fields}
    return client.post("/api/v1/imports", body, headers=bearer(user))


def test_post_starts_an_import_and_get_follows_it(client, kam, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, kam, csv_bytes(ROWS), target="accounts", mode="create")
    assert response.status_code == 202, response.content
    started = response.json()
    assert set(started) == {"id", "status"}
    job = ImportJob.objects.get(pk=started["id"])
    assert job.created_by == kam
    progress = client.get(f"/api/v1/imports/{job.pk}", headers=bearer(kam)).json()
    assert progress["status"] == "done"
    assert (progress["processed_rows"], progress["created"], progress["rejected"]) == (2, 1, 1)
    assert progress["mapping"] == {"会社名": "name", "電話番号": "phone"}
    assert progress["rejected_rows"] == [
        {
            "row": 3,
            "outcome": "rejected",
            "message": "Phone: “12” is not a valid phone number.",
            "record_id": None,
        }
    ]
    assert Account.objects.filter(name="株式会社A").exists()


def test_a_mapping_can_be_given_and_is_checked_before_anything_runs(client, kam):
    mapping = {"会社名": "name", "電話番号": "name"}
    response = upload(client, kam, csv_bytes(ROWS), target="accounts", mapping=json.dumps(mapping))
    assert response.status_code == 422
    assert "all go to “Company name”" in response.json()["error"]["message"]
    assert "mapping" in response.json()["error"]["fields"]
    response = upload(client, kam, csv_bytes(ROWS), target="accounts", mapping="{not json")
    assert response.status_code == 422
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "The file is empty."), (b"a,a\r\n1,2\r\n", "more than once")],
)
def test_a_file_that_cannot_be_read_is_a_422(client, kam, data, message):
    response = upload(client, kam, data, target="accounts")
    assert response.status_code == 422
    assert message in response.json()["error"]["message"]
    assert response.json()["error"]["fields"]["file"]
    assert not ImportJob.objects.exists()


def test_an_import_is_seen_by_its_creator_and_heads_only(
    client, kam, am, head, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job_id = upload(client, kam, csv_bytes(ROWS), target="accounts").json()["id"]
    assert client.get(f"/api/v1/imports/{job_id}", headers=bearer(am)).status_code == 404
    assert client.get(f"/api/v1/imports/{job_id}", headers=bearer(head)).status_code == 200
    missing = client.get(
        "/api/v1/imports/00000000-0000-0000-0000-000000000000", headers=bearer(kam)
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_support_may_not_import(client, support):
    response = upload(client, support, csv_bytes(ROWS), target="accounts")
    assert response.status_code == 403
    assert not ImportJob.objects.exists()
