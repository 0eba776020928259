"""Account groups (企業グループ): a company's parent, its subsidiaries, and the rules of the tree.

``Account.parent`` points at the parent company. The tree is kept sane by
:func:`group_check_parent`, which every write of ``parent`` goes through (the account services,
so the page and the API alike): no company is its own parent, no loop at any depth, no
archived parent, at most :data:`MAX_GROUP_LEVELS` companies from the top company down to the
lowest subsidiary. A merge moves the merged account's subsidiaries to the survivor and clears
the survivor's parent when that would close a loop (see ``tokui.accounts.merge``).

Every walk is bounded by the level limit, so a query count never depends on the data (and a
loop written by hand into the database cannot hang a page).
"""

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from tokui.accounts.models import Account
from tokui.core.validation import ErrorCollector
from tokui.users.models import User

# Companies from the top of a group to its lowest subsidiary, both included.
MAX_GROUP_LEVELS = 5
# Subsidiaries listed on an account page; the others are counted.
SUBSIDIARIES_SHOWN = 20


def group_ancestor_ids(
    account_id: int, *, parent_id: int | None = None, lock: bool = False
) -> list[int]:
    """The ids above ``account_id``, nearest first (its parent, the parent's parent, …).

    ``parent_id`` starts the walk there instead of reading the account's parent. Stops after
    ``MAX_GROUP_LEVELS + 1`` steps or on meeting an id twice, so it ends even on bad data.
    ``lock`` (inside a transaction) locks the rows walked: two edits that would together close
    a loop (A under B, B under A) cannot both pass.
    """
    chain: list[int] = []
    current = parent_id
    if current is None:
        current = Account.objects.filter(pk=account_id).values_list("parent_id", flat=True).first()
    lock = lock and transaction.get_connection().in_atomic_block
    while current is not None and current not in chain and len(chain) <= MAX_GROUP_LEVELS:
        chain.append(current)
        rows = Account.objects.filter(pk=current)
        if lock:
            rows = rows.select_for_update()
        current = rows.values_list("parent_id", flat=True).first()
    return chain


def _subtree_height(account_id: int) -> int:
    """Levels below ``account_id`` (0: no subsidiaries), counted up to the level limit."""
    level_ids = [account_id]
    height = 0
    seen = {account_id}
    while level_ids and height < MAX_GROUP_LEVELS:
        level_ids = [
            pk
            for pk in Account.objects.filter(parent_id__in=level_ids).values_list("pk", flat=True)
            if pk not in seen
        ]
        if not level_ids:
            break
        seen.update(level_ids)
        height += 1
    return height


def group_check_parent(
    *, actor: User, value: Any, current: Account | None, errors: ErrorCollector
) -> Account | None:
    """The parent company ``value`` (an Account or its id, or None) names, checked for ``current``.

    Adds an error under ``parent`` and returns None when it is not allowed: an account the actor
    cannot see (as if it did not exist), the account itself, an archived one, one of the
    account's own subsidiaries at any depth (a loop), or a tree deeper than the level limit.
    """
    if value is None or value == "":
        return None
    pk = value.pk if isinstance(value, Account) else value
    if isinstance(pk, bool) or not isinstance(pk, int):
        errors.add("parent", _("Choose the parent company from your accounts."))
        return None
    parent = Account.objects.visible_to(actor).filter(pk=pk).first()
    if parent is None:
        errors.add("parent", _("No such account: choose the parent company from your accounts."))
        return None
    if current is not None and parent.pk == current.pk:
        errors.add("parent", _("A company cannot be its own parent company."))
        return None
    if parent.is_archived:
        errors.add(
            "parent",
            _("“%(name)s” is archived: choose a current company as the parent.")
            % {"name": parent.name},
        )
        return None
    above = group_ancestor_ids(parent.pk, lock=True)
    if current is not None and current.pk in above:
        errors.add(
            "parent",
            _(
                "“%(name)s” belongs to this company's own group (it is one of its "
                "subsidiaries): that would make a loop."
            )
            % {"name": parent.name},
        )
        return None
    below = _subtree_height(current.pk) if current is not None else 0
    levels = len(above) + 1 + 1 + below  # the parent's ancestors, the parent, this, below it
    if levels > MAX_GROUP_LEVELS:
        errors.add(
            "parent",
            _(
                "A group can have at most %(max)d levels from the top company down; under "
                "“%(name)s” it would have %(n)d."
            )
            % {"max": MAX_GROUP_LEVELS, "name": parent.name, "n": levels},
        )
        return None
    return parent


@dataclass
class AccountGroup:
    """What the account page shows of a company's group."""

    parent: Account | None = None
    parent_visible: bool = False
    top: Account | None = None  # the top company, when it is not the account itself
    subsidiaries: list[Account] = field(default_factory=list)
    hidden_subsidiaries: int = 0  # subsidiaries the viewer may not see, or past the list's end

    @property
    def is_empty(self) -> bool:
        return self.parent is None and not self.subsidiaries and not self.hidden_subsidiaries


def account_group(*, viewer: User, account: Account) -> AccountGroup:
    """The parent (linked only if visible), the top company's name, and the live subsidiaries
    the viewer sees (at most ``SUBSIDIARIES_SHOWN``; the rest counted). ``account`` must be
    visible. A bounded number of queries whatever the size of the group."""
    group = AccountGroup()
    if account.parent_id is not None:
        chain = group_ancestor_ids(account.pk, parent_id=account.parent_id)
        wanted = {chain[0], chain[-1]}
        found = {a.pk: a for a in Account.objects.filter(pk__in=wanted)}
        visible = set(
            Account.objects.visible_to(viewer).filter(pk__in=wanted).values_list("pk", flat=True)
        )
        group.parent = found.get(chain[0])
        group.parent_visible = chain[0] in visible
        if chain[-1] != chain[0]:
            group.top = found.get(chain[-1])
    live = Account.objects.filter(parent_id=account.pk, archived_at__isnull=True)
    shown = list(live.visible_to(viewer).order_by("sort_key", "id")[:SUBSIDIARIES_SHOWN])
    group.subsidiaries = shown
    group.hidden_subsidiaries = live.count() - len(shown)
    return group
