"""Product images and documents (spec sheets, brochures): reads, writes and the file checks.

Everyone signed in sees a product's attachments; those who keep the catalog
(``may_edit_catalog``) add and delete them. Files are never served from ``MEDIA_URL``: the
pages and the API stream them through views that check the sign-in. A file's type is decided
by its content, not by the name or the browser's claim: an "image" must start like a PNG, JPEG,
WebP or GIF (SVG is refused: it can carry scripts), a spec sheet may also be a PDF or an
Office document.
"""

import hashlib
import os
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tokui.catalog.models import AttachmentKind, Product, ProductAttachment, product_scope
from tokui.catalog.selectors import may_edit_catalog, may_read_catalog
from tokui.core.audit import audit_record
from tokui.core.exceptions import NotFound, PermissionDenied
from tokui.core.validation import ErrorCollector

MAX_ATTACHMENTS_PER_PRODUCT = 50
TITLE_MAX = 200


def max_upload_bytes() -> int:
    return int(getattr(settings, "TOKUI_MAX_UPLOAD_MB", 10)) * 1024 * 1024


@dataclass(frozen=True)
class FileType:
    label: str
    content_type: str
    extensions: tuple[str, ...]
    is_image: bool = False


PNG = FileType("PNG", "image/png", (".png",), is_image=True)
JPEG = FileType("JPEG", "image/jpeg", (".jpg", ".jpeg", ".jpe"), is_image=True)
GIF = FileType("GIF", "image/gif", (".gif",), is_image=True)
WEBP = FileType("WebP", "image/webp", (".webp",), is_image=True)
PDF = FileType("PDF", "application/pdf", (".pdf",))
DOCX = FileType(
    "Word",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    (".docx",),
)
XLSX = FileType(
    "Excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)
)
PPTX = FileType(
    "PowerPoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    (".pptx",),
)
# Office 97–2003 files share one container format; the extension tells which program.
OLE = FileType("Office 97–2003", "application/octet-stream", (".doc", ".xls", ".ppt"))
_OLE_TYPES = {
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
}
_OOXML_MAIN_PART = {
    "word/document.xml": DOCX,
    "xl/workbook.xml": XLSX,
    "ppt/presentation.xml": PPTX,
}
ACCEPTED_EXTENSIONS: dict[str, str] = {
    AttachmentKind.IMAGE: ".png,.jpg,.jpeg,.webp,.gif",
    AttachmentKind.SPEC_SHEET: ".pdf,.docx,.xlsx,.pptx,.doc,.xls,.ppt,.png,.jpg,.jpeg,.webp,.gif",
    AttachmentKind.OTHER: ".pdf,.docx,.xlsx,.pptx,.doc,.xls,.ppt,.png,.jpg,.jpeg,.webp,.gif",
}
KIND_HELP: dict[str, Any] = {
    AttachmentKind.IMAGE: gettext_lazy("PNG, JPEG, WebP or GIF"),
    AttachmentKind.SPEC_SHEET: gettext_lazy("PDF, Word, Excel, PowerPoint or an image"),
    AttachmentKind.OTHER: gettext_lazy("PDF, Word, Excel, PowerPoint or an image"),
}

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _head(file: IO[bytes], size: int = 512) -> bytes:
    file.seek(0)
    head = file.read(size) or b""
    file.seek(0)
    return head


def sniff(file: IO[bytes]) -> FileType | None:
    """What the file really is, from its first bytes (and a zip's parts); None if unknown."""
    head = _head(file)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(file) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return None
        finally:
            file.seek(0)
        if "[Content_Types].xml" in names:
            for part, kind in _OOXML_MAIN_PART.items():
                if part in names:
                    return kind
    return None


def _looks_like_svg(file: IO[bytes]) -> bool:
    head = _head(file, 1024).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return b"<svg" in head or (head.startswith(b"<?xml") and b"svg" in head)


def clean_file_name(name: str) -> str:
    """The file's own name as the uploader saw it: no folders or control characters, NFC
    (macOS sends decomposed kana), at most 255 characters with the extension kept."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = _CONTROL.sub("", unicodedata.normalize("NFC", base)).strip() or "file"
    if len(base) > 255:
        stem, ext = os.path.splitext(base)
        base = stem[: 255 - len(ext[:20])] + ext[:20]
    return base


def _check_file(kind: str, upload: Any, errors: ErrorCollector) -> tuple[str, str] | None:
    """(clean name, content type) of an acceptable file; else the reason goes to ``file``."""
    if upload is None:
        errors.add("file", _("Choose a file."))
        return None
    name = clean_file_name(getattr(upload, "name", "") or "")
    size = getattr(upload, "size", None) or 0
    limit = max_upload_bytes()
    if size == 0:
        errors.add("file", _("“%(name)s” is empty.") % {"name": name})
        return None
    if size > limit:
        errors.add(
            "file",
            _("“%(name)s” is larger than %(mb)d MB: attach a smaller file.")
            % {"name": name, "mb": limit // (1024 * 1024)},
        )
        return None
    found = sniff(upload)
    ext = os.path.splitext(name)[1].lower()
    if found is None:
        if kind == AttachmentKind.IMAGE and (ext == ".svg" or _looks_like_svg(upload)):
            errors.add(
                "file",
                _(
                    "SVG drawings are not accepted as images (they can contain scripts): "
                    "export a PNG instead."
                ),
            )
        elif kind == AttachmentKind.IMAGE:
            errors.add(
                "file",
                _("“%(name)s” is not an image: upload a PNG, JPEG, WebP or GIF file.")
                % {"name": name},
            )
        else:
            errors.add(
                "file",
                _("“%(name)s” is not a file type we keep: upload %(types)s.")
                % {"name": name, "types": KIND_HELP.get(kind, KIND_HELP[AttachmentKind.OTHER])},
            )
        return None
    if kind == AttachmentKind.IMAGE and not found.is_image:
        errors.add(
            "file",
            _("“%(name)s” is a %(type)s file, not an image: choose the kind spec sheet or other.")
            % {"name": name, "type": found.label},
        )
        return None
    if ext not in found.extensions:
        errors.add(
            "file",
            _("“%(name)s” is really a %(type)s file: its name should end in %(ext)s.")
            % {"name": name, "type": found.label, "ext": found.extensions[0]},
        )
        return None
    content_type = _OLE_TYPES.get(ext, found.content_type) if found is OLE else found.content_type
    return name, content_type


def _sha256(upload: Any) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in iter(lambda: upload.read(65536), b""):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


# Reads --------------------------------------------------------------------------------------


def product_attachment_list(*, viewer: Any, product: Product) -> QuerySet[ProductAttachment]:
    """A product's attachments, images first (``product`` is already visible to ``viewer``)."""
    if not may_read_catalog(viewer):
        return ProductAttachment.objects.none()
    return (
        ProductAttachment.objects.filter(product=product)
        .select_related("uploaded_by")
        .order_by("kind", "-created_at", "-id")
    )


def product_attachment_get(
    *, viewer: Any, attachment_id: int, product_id: int | None = None
) -> ProductAttachment:
    """One attachment; a signed-out viewer or an unknown id is a NotFound."""
    qs = ProductAttachment.objects.select_related("product")
    if product_id is not None:
        qs = qs.filter(product_id=product_id)
    attachment = qs.filter(pk=attachment_id).first() if may_read_catalog(viewer) else None
    if attachment is None:
        raise NotFound(_("No such attachment."))
    return attachment


def attachments_by_kind(
    attachments: list[ProductAttachment],
) -> list[tuple[str, str, list[ProductAttachment]]]:
    """``[(kind, label, attachments)]`` in the order images, spec sheets, other; empty left out."""
    return [
        (kind, str(label), [a for a in attachments if a.kind == kind])
        for kind, label in AttachmentKind.choices
        if any(a.kind == kind for a in attachments)
    ]


# Writes -------------------------------------------------------------------------------------


def _require_editor(actor: Any) -> None:
    if not may_edit_catalog(actor):
        raise PermissionDenied(
            _("Only those who keep the catalog add or delete a product's files; you can read them.")
        )


@transaction.atomic
def product_attachment_add(
    *, actor: Any, product: Product, kind: str, file: Any, title: str = ""
) -> ProductAttachment:
    """Attach an image or a document to ``product``.

    Every problem is reported at once (``kind``, ``title``, ``file``) and nothing is stored when
    there is one. Side effects: the file is written through Django's storage (and removed again
    if the transaction fails); one audit event in the product's scope.
    """
    _require_editor(actor)
    locked = Product.objects.select_for_update().filter(pk=product.pk).first()
    if locked is None:
        raise NotFound(_("No such product."))
    product = locked
    errors = ErrorCollector()
    if kind not in AttachmentKind.values:
        errors.add("kind", _("Choose one of: %(v)s.") % {"v": ", ".join(AttachmentKind.values)})
    title = _CONTROL.sub("", unicodedata.normalize("NFC", title or "")).strip()
    if len(title) > TITLE_MAX:
        errors.add("title", _("At most %(n)d characters.") % {"n": TITLE_MAX})
    checked = _check_file(kind, file, errors) if kind in AttachmentKind.values else None
    if ProductAttachment.objects.filter(product=product).count() >= MAX_ATTACHMENTS_PER_PRODUCT:
        errors.add(
            "file",
            _("A product keeps at most %(n)d files: delete one first.")
            % {"n": MAX_ATTACHMENTS_PER_PRODUCT},
        )
    sha256 = ""
    if checked is not None:
        sha256 = _sha256(file)
        same = ProductAttachment.objects.filter(product=product, sha256=sha256).first()
        if same is not None:
            errors.add(
                "file",
                _("This file is already attached as “%(name)s”.") % {"name": same},
            )
    errors.raise_if_any()
    assert checked is not None
    name, content_type = checked
    attachment = ProductAttachment(
        product=product,
        kind=kind,
        name=name,
        title=title,
        content_type=content_type,
        size=file.size,
        sha256=sha256,
        uploaded_by=actor,
    )
    ext = os.path.splitext(name)[1].lower()
    file.seek(0)
    attachment.file.save(f"{uuid.uuid4().hex}{ext}", file, save=False)
    try:
        attachment.save()
        audit_record(
            actor=actor,
            action="catalog.product.attachment_added",
            target=product,
            changes={"attachment": [None, f"{attachment.get_kind_display()}: {attachment}"]},
            scope=product_scope(product.pk),
        )
    except BaseException:
        # The row rolls back with the transaction; the file must go by hand.
        attachment.file.storage.delete(attachment.file.name or "")
        raise
    return attachment


@transaction.atomic
def product_attachment_delete(*, actor: Any, attachment: ProductAttachment) -> None:
    """Remove an attachment; the file leaves storage after the commit. Audited in the product's
    history with the file's name."""
    _require_editor(actor)
    locked = (
        ProductAttachment.objects.select_for_update()
        .select_related("product")
        .filter(pk=attachment.pk)
        .first()
    )
    if locked is None:
        raise NotFound(_("No such attachment."))
    attachment = locked
    path, storage = attachment.file.name or "", attachment.file.storage
    product = attachment.product
    label = f"{attachment.get_kind_display()}: {attachment}"
    attachment.delete()
    audit_record(
        actor=actor,
        action="catalog.product.attachment_deleted",
        target=product,
        changes={"attachment": [label, None]},
        scope=product_scope(product.pk),
    )
    if path:
        transaction.on_commit(lambda: storage.delete(path), robust=True)


def product_attachment_open(attachment: ProductAttachment) -> IO[bytes]:
    try:
        return attachment.file.open("rb")
    except OSError as exc:
        raise NotFound(_("The file is missing from storage.")) from exc
