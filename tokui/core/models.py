from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class VersionedModel(models.Model):
    """When a record was made and last changed, and its ``version`` for stale-edit checks
    (``tokui.core.audit.check_version``): the services bump it on every change."""

    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """One change by one actor: the single audit trail every service writes (ARCHITECTURE rule 5).

    ``target_type``/``target_id`` name the changed record; ``scope`` groups events for a page
    that shows history (``account:42`` holds the account's and its contacts' events).
    ``changes`` maps a field name to ``[old, new]`` as shown to people.
    """

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=100)
    target_type = models.CharField(_("record type"), max_length=100)
    target_id = models.CharField(_("record id"), max_length=64)
    target_repr = models.CharField(_("record"), max_length=300)
    scope = models.CharField(_("scope"), max_length=100, db_index=True, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            # An account's timeline pages through its scope newest first, by (at, id).
            models.Index(fields=["scope", "-at", "-id"], name="audit_scope_timeline_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_repr}"
