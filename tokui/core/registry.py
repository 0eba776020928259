"""Registries that let higher apps join a lower app's work without the lower app importing them.

``account_relations`` lists every foreign key that points at an account. Merging two accounts
moves the merged account's records along each registered key to the survivor (and undoing the
merge moves them back), so an app that adds records hanging off an account registers its key in
its ``AppConfig.ready()``::

    from tokui.core.registry import account_relations

    class DealsConfig(AppConfig):
        def ready(self) -> None:
            account_relations.register("deals.Deal", "account")

A key that is not registered is left alone by a merge: its records stay on the merged (archived)
account, where its page still shows them.

A relation may also name a *merge check*, ``check(survivor=..., merged=...)``, for records that
cannot simply be moved (e.g. two agreements valid on the same days): the merge calls every check
after locking both accounts and before anything moves; a check refuses by raising an
``ApplicationError`` (usually 409) that says what to do first::

    account_relations.register("pricing.Agreement", "account", check=agreement_merge_check)
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models


@dataclass(frozen=True)
class Relation:
    """One foreign key to an account: ``model_label`` as ``app_label.ModelName``."""

    model_label: str
    fk_field: str
    # Called as check(survivor=account, merged=account) before a merge moves anything.
    check: Callable[..., None] | None = field(default=None, compare=False)

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)

    @property
    def key(self) -> str:
        """How a merge record names the relation: ``app_label.model`` for a key named
        ``account``, ``app_label.model.field`` for any other (a model may have several)."""
        label = self.model._meta.label_lower
        return label if self.fk_field == "account" else f"{label}.{self.fk_field}"


class RelationRegistry:
    """An ordered set of (model, foreign key) pairs; registering the same pair twice is harmless."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._relations: dict[tuple[str, str], Relation] = {}

    def register(
        self, model_label: str, fk_field: str, *, check: Callable[..., None] | None = None
    ) -> None:
        """Add ``model_label``'s ``fk_field``; checked once the app registry is ready.

        ``check``, if given, is the relation's merge check (see the module docstring).
        """
        relation = Relation(model_label, fk_field, check)
        self._relations[(model_label.lower(), fk_field)] = relation
        if apps.ready:
            self._check(relation)

    def unregister(self, model_label: str, fk_field: str) -> None:
        self._relations.pop((model_label.lower(), fk_field), None)

    def relations(self) -> list[Relation]:
        """The registered relations in registration order, each checked to be a real key."""
        found = list(self._relations.values())
        for relation in found:
            self._check(relation)
        return found

    def check_merge(self, *, survivor: Any, merged: Any) -> None:
        """Run every relation's merge check; the first refusal (an exception) stops the merge."""
        for relation in self._relations.values():
            if relation.check is not None:
                relation.check(survivor=survivor, merged=merged)

    def _check(self, relation: Relation) -> None:
        try:
            field = relation.model._meta.get_field(relation.fk_field)
        except (LookupError, FieldDoesNotExist) as exc:
            raise ImproperlyConfigured(
                f"{self.name}: {relation.model_label}.{relation.fk_field} does not exist."
            ) from exc
        if not isinstance(field, models.ForeignKey):
            raise ImproperlyConfigured(
                f"{self.name}: {relation.model_label}.{relation.fk_field} is not a foreign key."
            )

    def __contains__(self, item: tuple[str, str]) -> bool:
        return (item[0].lower(), item[1]) in self._relations

    def __len__(self) -> int:
        return len(self._relations)


account_relations = RelationRegistry("account_relations")


class LabelRegistry:
    """Human labels for codes an app defines, e.g. the audit actions shown in history panels.

    Labels are lazy translations, registered in ``AppConfig.ready()``; a code without a label is
    shown as is.
    """

    def __init__(self) -> None:
        self._labels: dict[str, Any] = {}

    def register(self, code: str, label: Any) -> None:
        self._labels[code] = label

    def get(self, code: str) -> str | None:
        label = self._labels.get(code)
        return None if label is None else str(label)


# Audit actions of apps whose labels core's history helpers do not know (see templatetags).
audit_action_labels = LabelRegistry()
