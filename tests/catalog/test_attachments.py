"""Product images and spec sheets: upload, checks on what a file really is, download, delete."""

import io
import zipfile
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tokui.catalog.attachments import (
    product_attachment_add,
    product_attachment_delete,
    product_attachment_list,
)
from tokui.catalog.models import ProductAttachment, product_scope
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.users.services import api_token_create

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
WEBP = b"RIFF\x20\x00\x00\x00WEBPVP8 " + b"\x00" * 40
GIF = b"GIF89a" + b"\x00" * 40
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def _file(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _stored(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


@pytest.fixture
def product(make_product):
    return make_product(sku="PMP-100A", name="渦巻ポンプ 100A")


@pytest.mark.parametrize(
    ("kind", "name", "content", "content_type"),
    [
        ("image", "外観.png", PNG, "image/png"),
        ("image", "photo.JPG", JPEG, "image/jpeg"),
        ("image", "photo.webp", WEBP, "image/webp"),
        ("image", "anim.gif", GIF, "image/gif"),
        ("spec_sheet", "仕様書.pdf", PDF, "application/pdf"),
        ("spec_sheet", "図面.png", PNG, "image/png"),
        (
            "other",
            "取扱説明書.docx",
            _docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
def test_accepted_files_are_stored_with_their_real_type(
    head, product, _media, kind, name, content, content_type
):
    attachment = product_attachment_add(
        actor=head, product=product, kind=kind, file=_file(name, content, "text/html")
    )
    assert attachment.kind == kind
    assert attachment.name == name
    assert attachment.content_type == content_type  # from the content, not the browser's claim
    assert attachment.size == len(content)
    assert len(attachment.sha256) == 64
    assert attachment.uploaded_by == head
    assert len(_stored(_media)) == 1
    event = AuditEvent.objects.get(action="catalog.product.attachment_added")
    assert event.scope == product_scope(product.pk)
    assert name in event.changes["attachment"][1]


@pytest.mark.parametrize(
    ("kind", "name", "content", "message"),
    [
        ("image", "photo.png", HTML, "is not an image"),
        ("image", "photo.jpg", HTML, "is not an image"),
        ("image", "logo.svg", SVG, "SVG drawings are not accepted"),
        ("image", "logo.png", SVG, "SVG drawings are not accepted"),
        ("image", "仕様書.pdf", PDF, "not an image"),
        ("spec_sheet", "spec.pdf", HTML, "not a file type we keep"),
        ("spec_sheet", "spec.html", HTML, "not a file type we keep"),
        ("spec_sheet", "spec.pdf", PNG, "its name should end in .png"),
        ("other", "empty.pdf", b"", "is empty"),
    ],
)
def test_bad_files_are_refused_next_to_the_field_and_nothing_is_kept(
    head, product, _media, kind, name, content, message
):
    with pytest.raises(ApplicationError) as caught:
        product_attachment_add(actor=head, product=product, kind=kind, file=_file(name, content))
    assert caught.value.status == 422
    assert message in " ".join(caught.value.errors["file"])
    assert not ProductAttachment.objects.exists()
    assert _stored(_media) == []
    assert not AuditEvent.objects.filter(action__startswith="catalog.product.attachment").exists()


def test_size_limit_comes_from_the_setting(head, product, settings, _media):
    settings.TOKUI_MAX_UPLOAD_MB = 1
    big = PDF + b"0" * (1024 * 1024)
    with pytest.raises(ApplicationError) as caught:
        product_attachment_add(
            actor=head, product=product, kind="spec_sheet", file=_file("big.pdf", big)
        )
    assert "larger than 1 MB" in caught.value.errors["file"][0]
    assert _stored(_media) == []


def test_the_same_file_twice_and_a_bad_kind_are_refused(head, product):
    product_attachment_add(actor=head, product=product, kind="image", file=_file("a.png", PNG))
    with pytest.raises(ApplicationError) as caught:
        product_attachment_add(actor=head, product=product, kind="image", file=_file("b.png", PNG))
    assert "already attached" in caught.value.errors["file"][0]
    with pytest.raises(ApplicationError) as caught:
        product_attachment_add(actor=head, product=product, kind="video", file=_file("c.png", PNG))
    assert "kind" in caught.value.errors
    assert ProductAttachment.objects.count() == 1


def test_only_catalog_editors_add_or_delete(head, kam, support, product, _media):
    for user in (kam, support):
        with pytest.raises(PermissionDenied):
            product_attachment_add(
                actor=user, product=product, kind="image", file=_file("a.png", PNG)
            )
    attachment = product_attachment_add(
        actor=head, product=product, kind="image", file=_file("a.png", PNG)
    )
    with pytest.raises(PermissionDenied):
        product_attachment_delete(actor=kam, attachment=attachment)
    assert ProductAttachment.objects.count() == 1
    assert len(product_attachment_list(viewer=kam, product=product)) == 1


@pytest.mark.django_db(transaction=True)
def test_delete_removes_the_row_and_after_the_commit_the_file(head, make_product, _media):
    product = make_product(sku="PMP-DEL")
    attachment = product_attachment_add(
        actor=head, product=product, kind="spec_sheet", file=_file("仕様書.pdf", PDF)
    )
    assert len(_stored(_media)) == 1
    product_attachment_delete(actor=head, attachment=attachment)
    assert not ProductAttachment.objects.exists()
    assert _stored(_media) == []
    event = AuditEvent.objects.get(action="catalog.product.attachment_deleted")
    assert event.scope == product_scope(product.pk)
    assert "仕様書.pdf" in event.changes["attachment"][0]


# Pages ----------------------------------------------------------------------------------------


def test_upload_on_the_product_page_and_download_with_a_japanese_name(client, head, product):
    client.force_login(head)
    url = reverse("catalog:attachment_upload", args=[product.pk])
    response = client.post(
        url, {"kind": "spec_sheet", "title": "仕様書 第2版", "file": _file("仕様書.pdf", PDF)}
    )
    assert response.status_code == 302
    attachment = ProductAttachment.objects.get()
    page = client.get(reverse("catalog:product_detail", args=[product.pk])).text
    assert "仕様書 第2版" in page
    assert reverse("catalog:attachment_download", args=[attachment.pk]) in page

    response = client.get(reverse("catalog:attachment_download", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=utf-8''{quote('仕様書.pdf')}" in disposition
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF  # read to the end: the file is closed


def test_images_show_as_thumbnails_through_a_signed_in_view(client, head, kam, product):
    attachment = product_attachment_add(
        actor=head, product=product, kind="image", file=_file("外観.png", PNG)
    )
    image_url = reverse("catalog:attachment_image", args=[attachment.pk])
    client.force_login(kam)
    page = client.get(reverse("catalog:product_detail", args=[product.pk])).text
    assert f'src="{image_url}"' in page
    assert "/media/" not in page
    response = client.get(image_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    assert b"".join(response.streaming_content) == PNG  # read to the end: the file is closed
    # a KAM reads but sees no upload form or delete button
    assert reverse("catalog:attachment_upload", args=[product.pk]) not in page
    client.logout()
    assert client.get(image_url).status_code == 302  # to the sign-in page


def test_a_fake_image_on_the_page_shows_the_error_next_to_the_field(client, head, product):
    client.force_login(head)
    response = client.post(
        reverse("catalog:attachment_upload", args=[product.pk]),
        {"kind": "image", "title": "", "file": _file("photo.png", HTML, "image/png")},
    )
    assert response.status_code == 422
    assert "is not an image" in response.text
    assert 'id="id_file_error"' in response.text
    assert not ProductAttachment.objects.exists()


def test_a_kam_cannot_upload_or_delete_on_the_page(client, head, kam, product):
    attachment = product_attachment_add(
        actor=head, product=product, kind="image", file=_file("a.png", PNG)
    )
    client.force_login(kam)
    response = client.post(
        reverse("catalog:attachment_upload", args=[product.pk]),
        {"kind": "image", "file": _file("b.png", GIF)},
    )
    assert response.status_code == 403
    response = client.post(reverse("catalog:attachment_delete", args=[attachment.pk]))
    assert response.status_code == 403
    assert ProductAttachment.objects.count() == 1


def test_delete_on_the_page(client, head, product):
    attachment = product_attachment_add(
        actor=head, product=product, kind="image", file=_file("a.png", PNG)
    )
    client.force_login(head)
    assert client.get(reverse("catalog:attachment_delete", args=[attachment.pk])).status_code == 405
    response = client.post(reverse("catalog:attachment_delete", args=[attachment.pk]))
    assert response.status_code == 302
    assert not ProductAttachment.objects.exists()


# API ------------------------------------------------------------------------------------------


def _headers(user):
    _token, key = api_token_create(actor=user, user=user)
    return {"Authorization": f"Bearer {key}"}


def test_api_upload_list_download_delete(client, head, product):
    headers = _headers(head)
    base = f"/api/v1/products/{product.pk}/attachments"
    response = client.post(
        base,
        {"kind": "image", "title": "外観", "file": _file("外観.png", PNG)},
        headers=headers,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "image" and body["content_type"] == "image/png"
    assert body["uploaded_by"] == "head"

    listed = client.get(base, headers=headers).json()
    assert [a["id"] for a in listed] == [body["id"]]

    response = client.get(body["download_url"], headers=headers)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert f"filename*=utf-8''{quote('外観.png')}" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PNG

    # another product's id in the path does not reach this file
    other = f"/api/v1/products/{product.pk + 999}/attachments/{body['id']}/download"
    assert client.get(other, headers=headers).status_code == 404

    assert client.delete(f"{base}/{body['id']}", headers=headers).status_code == 204
    assert not ProductAttachment.objects.exists()


def test_api_refuses_a_fake_image_and_a_non_editor(client, head, kam, product):
    base = f"/api/v1/products/{product.pk}/attachments"
    response = client.post(
        base, {"kind": "image", "file": _file("x.png", HTML, "image/png")}, headers=_headers(head)
    )
    assert response.status_code == 422
    assert "is not an image" in response.json()["error"]["fields"]["file"][0]

    response = client.post(
        base, {"kind": "image", "file": _file("x.png", PNG)}, headers=_headers(kam)
    )
    assert response.status_code == 403
    response = client.post(base, {"kind": "image"}, headers=_headers(head))
    assert response.status_code == 422
    assert not ProductAttachment.objects.exists()
