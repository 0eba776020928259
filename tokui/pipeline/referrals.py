"""Referrals (紹介): who brought an account or a deal to us, the referral tree, and rewards.

A referral says that the *referrer* account (optionally one of its contacts) brought us the
*account*. One referral per account says who brought the account itself (``deal`` empty,
database constraint ``referral_one_per_account``); a deal may carry its own referral besides.
The referrals make a tree of accounts ("A referred B, B referred C"): the services refuse a
referral that would close a loop (B referring A back, directly or further down), whether the
referrals are of accounts or of deals, so every walk of the tree ends.

Reward rules (``ReferralRewardRule``) are applied automatically:

* ``referral_rewards_on_deal_won`` — called by ``deal_win`` once a deal is won. On the referred
  account's first won deal every active rule with trigger ``first_deal_won`` valid that day
  grants one reward to the referrer.
* ``referral_rewards_on_order_paid`` — to be called by the orders (issue 7) when an order is
  paid; rules with trigger ``first_order_paid`` grant on the first paid order.

A reward is granted at most once per referral and rule (database constraint
``referral_reward_once``), so calling either function again changes nothing. Every write is
audited; referral events go to both accounts' histories (``account:<id>``), rewards to the
referrer's, and the referrer account's owner is notified of a reward.

Who may do what: recording, changing and deleting referrals needs ``may_edit_accounts`` and
both accounts visible (the support role reads only). Reward rules, and marking rewards paid or
cancelling them, are for heads of sales and administrators. Everyone signed in reads the rules;
a referral is read by whoever may see either of its accounts, with the other account shown
without its name when the reader may not see it.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.models import Account, Contact, account_scope
from tokui.catalog.constants import Currency
from tokui.core.audit import audit_record, check_version, diff, snapshot
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.core.money import format_money, minor_units, quantize
from tokui.core.validation import ErrorCollector, check_plain_text, check_text_fields
from tokui.pipeline.constants import RewardKind, RewardStatus, RewardTrigger, StageKind
from tokui.pipeline.models import Deal, Referral, ReferralReward, ReferralRewardRule
from tokui.users.constants import Role
from tokui.users.models import User
from tokui.users.notifications import notify

ROLES_MANAGING_REWARDS = frozenset({Role.ADMIN, Role.HEAD})
# Levels of the tree shown above and below an account.
TREE_DEPTH = 5
# Accounts shown in the downward tree; the rest are counted.
TREE_NODES_LIMIT = 200
# Levels walked when checking for a loop: far beyond any real chain of introductions, and a
# bound so that even a loop written into the database by hand cannot hang a write.
CYCLE_WALK_LIMIT = 100
POINTS_LIMIT = 1_000_000_000
AMOUNT_LIMIT = Decimal(10) ** 13
RULE_FIELDS = (
    "name",
    "trigger",
    "kind",
    "amount",
    "percent",
    "points",
    "currency",
    "valid_from",
    "valid_to",
    "active",
)
REFERRAL_FIELDS = ("referrer", "referrer_contact", "deal", "referred_on", "note")


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def may_manage_rewards(user: Any) -> bool:
    """Heads of sales and administrators write reward rules and settle rewards."""
    return _signed_in(user) and user.role in ROLES_MANAGING_REWARDS


def may_record_referrals(user: Any) -> bool:
    return _signed_in(user) and bool(user.may_edit_accounts)


def _require_rewards_manager(actor: Any) -> None:
    if not may_manage_rewards(actor):
        raise PermissionDenied(
            _("Only heads of sales and administrators manage referral rewards; you can read them.")
        )


def _require_editor(actor: Any) -> None:
    if not may_record_referrals(actor):
        raise PermissionDenied(_("Your role can read referrals but not change them."))


def referral_label(referral: Referral) -> str:
    """How a referral is named in histories: "A → B" (and the deal, when it has one)."""
    text = f"{referral.referrer.name} → {referral.account.name}"
    if referral.deal is not None:
        text += f" ({referral.deal.title})"
    return text


def reward_label(reward: ReferralReward) -> str:
    """ "¥30,000 (紹介謝礼)" or "500 pt (紹介ポイント)"."""
    return f"{reward_value_display(reward)} ({reward.rule.name})"


def reward_value_display(reward: ReferralReward | ReferralRewardRule) -> str:
    if reward.points is not None:
        return _("%(n)s pt") % {"n": f"{reward.points:,}"}
    if reward.amount is not None:
        return format_money(reward.amount, reward.currency)
    if isinstance(reward, ReferralRewardRule) and reward.percent is not None:
        return f"{reward.percent.normalize():f}%"
    return "—"


def _audit(
    *,
    actor: Any,
    action: str,
    target: Any,
    label: str,
    scopes: list[str],
    changes: dict[str, list[Any]] | None = None,
    note: str = "",
) -> None:
    """One audit event per account scope. A referral joins two accounts that different people
    may see, and a history is read long after it was written: so the events name neither the
    other account, nor its person, deal or note (``_PRIVATE_CHANGES``) — the referral sections
    show those, checking visibility when they are read. A referral is named by its number."""
    if isinstance(target, Referral):
        label = _("Referral #%(n)d") % {"n": target.pk}
    shown = {k: v for k, v in (changes or {}).items() if k not in _PRIVATE_CHANGES}
    for scope in dict.fromkeys(scopes):
        event = audit_record(actor=actor, action=action, target=target, changes=shown, scope=scope)
        AuditEvent.objects.filter(pk=event.pk).update(target_repr=label[:300])


# What a referral's or reward's audit event leaves out (see ``_audit``).
_PRIVATE_CHANGES = frozenset({"referrer", "referrer_contact", "account", "deal", "note", "because"})


# -- selectors -------------------------------------------------------------------------------


def _visible_ids(viewer: Any, ids: set[int]) -> set[int]:
    if not ids or not _signed_in(viewer):
        return set()
    return set(Account.objects.visible_to(viewer).filter(pk__in=ids).values_list("pk", flat=True))


def referral_list(
    *,
    viewer: Any,
    account_id: int | None = None,
    referrer_id: int | None = None,
    search: str = "",
) -> QuerySet[Referral]:
    """Referrals of which the viewer sees the referred account or the referrer, newest first.

    Pass the rows through ``referrals_mark_visible`` before showing them: it marks the side the
    viewer may not see, whose name must not be shown.
    """
    if not _signed_in(viewer):
        return Referral.objects.none()
    visible = Account.objects.visible_to(viewer).values("pk")
    qs = Referral.objects.filter(Q(account__in=visible) | Q(referrer__in=visible))
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if referrer_id is not None:
        qs = qs.filter(referrer_id=referrer_id)
    search = search.strip()[:200]
    if search:
        qs = qs.filter(
            Q(account__name__icontains=search, account__in=visible)
            | Q(referrer__name__icontains=search, referrer__in=visible)
        )
    return qs.select_related(
        "account", "referrer", "referrer_contact", "deal", "recorded_by"
    ).order_by("-referred_on", "-pk")


def referrals_mark_visible(*, viewer: Any, referrals: list[Referral]) -> list[Referral]:
    """Set ``account_visible`` and ``referrer_visible`` on each row (one query for the page)."""
    ids = {r.account_id for r in referrals} | {r.referrer_id for r in referrals}
    seen = _visible_ids(viewer, ids)
    for referral in referrals:
        referral.account_visible = referral.account_id in seen  # type: ignore[attr-defined]
        referral.referrer_visible = referral.referrer_id in seen  # type: ignore[attr-defined]
    return referrals


def referral_get(*, viewer: Any, referral_id: int) -> Referral:
    referral = referral_list(viewer=viewer).filter(pk=referral_id).first()
    if referral is None:
        raise NotFound(_("No such referral."))
    referrals_mark_visible(viewer=viewer, referrals=[referral])
    return referral


def referral_of_account(*, viewer: Any, account: Account) -> Referral | None:
    """The account's own "who brought it to us" (not a deal's), if any; ``account`` visible."""
    found = referral_list(viewer=viewer, account_id=account.pk).filter(deal=None).first()
    if found is not None:
        referrals_mark_visible(viewer=viewer, referrals=[found])
    return found


@dataclass
class TreeNode:
    """One account in a referral tree. ``name`` is None when the viewer may not see it."""

    account_id: int
    name: str | None
    referral: Referral | None  # the referral that joins it to the node it hangs from
    depth: int
    children: list["TreeNode"] = field(default_factory=list)
    deals: list[str] = field(default_factory=list)  # titles of deals it was referred for

    @property
    def visible(self) -> bool:
        return self.name is not None


@dataclass
class ReferralTree:
    account: Account
    # Upwards: who referred the account, who referred that one, … nearest first.
    referrers: list[TreeNode]
    # Downwards: what the account referred, each with what it referred in turn.
    referred: list[TreeNode]
    referred_count: int  # accounts in the downward tree (all levels shown)
    truncated: bool  # the tree goes deeper or wider than shown

    @property
    def is_empty(self) -> bool:
        return not self.referrers and not self.referred


def _upward_referral(account_id: int) -> Referral | None:
    """The referral that brought ``account_id``: its own one, else its oldest deal's."""
    return (
        Referral.objects.filter(account_id=account_id)
        .select_related("referrer", "referrer_contact", "deal")
        .order_by(F("deal_id").asc(nulls_first=True), "referred_on", "pk")
        .first()
    )


def referral_tree(*, viewer: Any, account: Account, depth: int = TREE_DEPTH) -> ReferralTree:
    """The account's referrer chain upwards and everything it referred downwards.

    ``account`` must be visible to ``viewer`` (the caller got it through a selector). Accounts
    the viewer may not see stay in the tree, without their name ("an account you cannot see"),
    so the shape is true without telling who they are. Walks at most ``depth`` levels each
    way, one query per level, and stops on meeting an account twice (loops are refused by the
    services, but a walk must end even on data written by hand).
    """
    depth = max(1, min(depth, TREE_DEPTH))
    seen = {account.pk}
    # Upwards.
    chain: list[tuple[int, Referral]] = []
    current = account.pk
    for _level in range(depth):
        referral = _upward_referral(current)
        if referral is None or referral.referrer_id in seen:
            break
        chain.append((referral.referrer_id, referral))
        seen.add(referral.referrer_id)
        current = referral.referrer_id
    truncated = bool(chain) and len(chain) == depth and _upward_referral(current) is not None
    # Downwards, level by level.
    nodes: dict[int, TreeNode] = {}
    roots: list[TreeNode] = []
    level_ids = [account.pk]
    down_seen = {account.pk}
    count = 0
    for level in range(1, depth + 1):
        if not level_ids:
            break
        rows = list(
            Referral.objects.filter(referrer_id__in=level_ids)
            .select_related("account", "referrer_contact", "deal")
            .order_by("referred_on", "pk")
        )
        next_ids: list[int] = []
        for referral in rows:
            child_id = referral.account_id
            if child_id in down_seen:
                # The same account referred again for a deal: one node, with the deal noted.
                known = nodes.get(child_id)
                if (
                    known is not None
                    and known.referral is not None
                    and referral.deal is not None
                    and known.referral.referrer_id == referral.referrer_id
                ):
                    known.deals.append(referral.deal.title)
                continue
            if count >= TREE_NODES_LIMIT:
                truncated = True
                break
            node = TreeNode(
                account_id=child_id,
                name=referral.account.name,
                referral=referral,
                depth=level,
                deals=[referral.deal.title] if referral.deal is not None else [],
            )
            down_seen.add(child_id)
            nodes[child_id] = node
            count += 1
            next_ids.append(child_id)
            if referral.referrer_id == account.pk:
                roots.append(node)
            else:
                nodes[referral.referrer_id].children.append(node)
        level_ids = next_ids
    if level_ids and Referral.objects.filter(referrer_id__in=level_ids).exists():
        truncated = True
    # Names only of accounts the viewer may see.
    all_ids = set(nodes) | {pk for pk, _r in chain}
    visible = _visible_ids(viewer, all_ids)
    up_nodes = []
    for level, (pk, referral) in enumerate(chain, start=1):
        up_nodes.append(
            TreeNode(
                account_id=pk,
                name=referral.referrer.name if pk in visible else None,
                referral=referral,
                depth=level,
                # The deal is the referred (lower) account's: named only if that one is visible.
                deals=[referral.deal.title]
                if referral.deal is not None and referral.account_id in visible
                else [],
            )
        )
    for pk, node in nodes.items():
        if pk not in visible:
            node.name = None
            node.deals = []
    return ReferralTree(
        account=account,
        referrers=up_nodes,
        referred=roots,
        referred_count=count,
        truncated=truncated,
    )


@dataclass
class RevenueRow:
    referrer_id: int
    referrer_name: str | None  # None when the viewer may not see the referrer
    currency: str
    amount: Decimal
    deals: int
    accounts: int


@dataclass
class ReferralRevenue:
    rows: list[RevenueRow]
    totals: dict[str, Decimal]  # per currency
    deals: int

    @property
    def is_empty(self) -> bool:
        return not self.rows


def referral_revenue(*, viewer: Any, account: Account | None = None) -> ReferralRevenue:
    """The value of the won deals that came through referrals, per referrer and in total.

    A won deal with its own referral counts for that referral's referrer; every other won deal
    of a referred account counts for the referrer who brought the account. Only deals of
    accounts the viewer may see are counted. ``account`` narrows it to what that account
    referred. Amounts are summed per currency, never converted.

    Won deals are what there is today: once orders exist (issue 7), paid orders of referred
    accounts will add to it.
    """
    rows: dict[tuple[int, str], RevenueRow] = {}
    if not _signed_in(viewer):
        return ReferralRevenue(rows=[], totals={}, deals=0)
    visible = Account.objects.visible_to(viewer).values("pk")
    won = Q(stage__kind=StageKind.WON, archived_at=None)
    account_refs = Referral.objects.filter(deal=None, account__in=visible)
    deal_refs = Referral.objects.filter(deal__isnull=False, account__in=visible)
    if account is not None:
        account_refs = account_refs.filter(referrer_id=account.pk)
        deal_refs = deal_refs.filter(referrer_id=account.pk)
    brought = dict(account_refs.values_list("account_id", "referrer_id"))
    accounts: dict[tuple[int, str], set[int]] = defaultdict(set)

    def add(referrer_id: int, currency: str, amount: Decimal, deals: int, account_id: int) -> None:
        row = rows.setdefault(
            (referrer_id, currency),
            RevenueRow(referrer_id, None, currency, Decimal(0), 0, 0),
        )
        row.amount += amount or Decimal(0)
        row.deals += deals
        accounts[(referrer_id, currency)].add(account_id)

    if brought:
        sums = (
            Deal.objects.filter(won, account_id__in=list(brought), referral__isnull=True)
            .values("account_id", "currency")
            .annotate(total=Sum("value"), n=Count("pk"))
            .order_by()
        )
        for item in sums:
            add(
                brought[item["account_id"]],
                item["currency"],
                item["total"],
                item["n"],
                item["account_id"],
            )
    deal_sums = (
        deal_refs.filter(deal__stage__kind=StageKind.WON, deal__archived_at=None)
        .values("referrer_id", "account_id", "deal__currency")
        .annotate(total=Sum("deal__value"), n=Count("pk"))
        .order_by()
    )
    for deal_item in deal_sums:
        add(
            deal_item["referrer_id"],
            deal_item["deal__currency"],
            deal_item["total"],
            deal_item["n"],
            deal_item["account_id"],
        )
    referrer_ids = {r.referrer_id for r in rows.values()}
    seen = _visible_ids(viewer, referrer_ids)
    names = dict(Account.objects.filter(pk__in=seen).values_list("pk", "name"))
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for key, row in rows.items():
        row.referrer_name = names.get(row.referrer_id)
        row.accounts = len(accounts[key])
        row.amount = quantize(row.amount, row.currency)
        totals[row.currency] += row.amount
    ordered = sorted(rows.values(), key=lambda r: (r.currency, -r.amount, r.referrer_id))
    return ReferralRevenue(rows=ordered, totals=dict(totals), deals=sum(r.deals for r in ordered))


def reward_list(
    *,
    viewer: Any,
    referrer_id: int | None = None,
    account_id: int | None = None,
    status: str | None = None,
) -> QuerySet[ReferralReward]:
    """Rewards of the referrals the viewer may read, newest first."""
    qs = ReferralReward.objects.filter(referral__in=referral_list(viewer=viewer).values("pk"))
    if referrer_id is not None:
        qs = qs.filter(referral__referrer_id=referrer_id)
    if account_id is not None:
        qs = qs.filter(referral__account_id=account_id)
    if status in RewardStatus.values:
        qs = qs.filter(status=status)
    return qs.select_related(
        "referral", "referral__account", "referral__referrer", "referral__deal", "rule"
    ).order_by("-granted_at", "-pk")


def rewards_mark_visible(*, viewer: Any, rewards: list[ReferralReward]) -> list[ReferralReward]:
    referrals_mark_visible(viewer=viewer, referrals=[r.referral for r in rewards])
    return rewards


def reward_get(*, viewer: Any, reward_id: int) -> ReferralReward:
    reward = reward_list(viewer=viewer).filter(pk=reward_id).first()
    if reward is None:
        raise NotFound(_("No such referral reward."))
    rewards_mark_visible(viewer=viewer, rewards=[reward])
    return reward


def reward_rule_list(*, viewer: Any, active: bool | None = None) -> QuerySet[ReferralRewardRule]:
    """Every rule (everyone signed in reads them), active ones first."""
    if not _signed_in(viewer):
        return ReferralRewardRule.objects.none()
    qs = ReferralRewardRule.objects.all()
    if active is not None:
        qs = qs.filter(active=active)
    return qs.order_by("-active", "name", "pk")


def reward_rule_get(*, viewer: Any, rule_id: int) -> ReferralRewardRule:
    rule = reward_rule_list(viewer=viewer).filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(_("No such reward rule."))
    return rule


# -- referral services -----------------------------------------------------------------------


def _clean_day(value: Any, errors: ErrorCollector, name: str) -> datetime.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value.strip())
        except ValueError:
            errors.add(name, _("Enter a date as YYYY-MM-DD."))
            return None
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        errors.add(name, _("Enter a date as YYYY-MM-DD."))
        return None
    return value


def _referred_up_ids(start_id: int) -> set[int]:
    """Every account above ``start_id`` in the referral tree (who referred it, and so on).

    Bounded by ``CYCLE_WALK_LIMIT`` levels; locks the referrals walked inside a transaction so
    two referrals that would together close a loop cannot both pass.
    """
    found: set[int] = set()
    level = {start_id}
    for _level in range(CYCLE_WALK_LIMIT):
        rows = Referral.objects.filter(account_id__in=level)
        if transaction.get_connection().in_atomic_block:
            rows = rows.select_for_update()
        above = set(rows.values_list("referrer_id", flat=True)) - found
        if not above:
            break
        found |= above
        level = above
    return found


def _lock_accounts(*ids: int) -> None:
    """Lock the two accounts in a fixed order: referrals between the same accounts queue."""
    list(Account.objects.select_for_update().filter(pk__in=sorted(set(ids))).order_by("pk"))


def _check_referral(
    *,
    actor: User,
    account: Account,
    referrer: Any,
    referrer_contact: Any,
    deal: Any,
    referred_on: Any,
    note: Any,
    current: Referral | None,
) -> dict[str, Any]:
    """Every rule a referral must keep, all errors at once; returns the clean values."""
    errors = ErrorCollector()
    clean: dict[str, Any] = {}
    visible = Account.objects.visible_to(actor)
    # The referrer: a visible, current account that is not the account itself.
    referrer_id = referrer.pk if isinstance(referrer, Account) else referrer
    found_referrer: Account | None = None
    if isinstance(referrer_id, bool) or not isinstance(referrer_id, int):
        errors.add("referrer", _("Choose the account that made the referral."))
    else:
        found_referrer = visible.filter(pk=referrer_id).first()
        if found_referrer is None:
            errors.add("referrer", _("No such account: choose the referrer from your accounts."))
        elif found_referrer.pk == account.pk:
            errors.add("referrer", _("An account cannot refer itself."))
            found_referrer = None
        elif found_referrer.is_archived and (
            current is None or current.referrer_id != found_referrer.pk
        ):
            errors.add(
                "referrer",
                _("“%(name)s” is archived: restore it before recording its referrals.")
                % {"name": found_referrer.name},
            )
            found_referrer = None
    clean["referrer"] = found_referrer
    # The person who referred: one of the referrer's contacts.
    contact_id = referrer_contact.pk if isinstance(referrer_contact, Contact) else referrer_contact
    clean["referrer_contact"] = None
    if contact_id not in (None, ""):
        contact = (
            Contact.objects.filter(pk=contact_id).select_related("account").first()
            if isinstance(contact_id, int) and not isinstance(contact_id, bool)
            else None
        )
        if contact is None or contact.account_id != referrer_id:
            errors.add(
                "referrer_contact",
                _("Choose a contact of the referring account (or none)."),
            )
        else:
            clean["referrer_contact"] = contact
    # The deal: one of the account's, not referred already.
    deal_id = deal.pk if isinstance(deal, Deal) else deal
    clean["deal"] = None
    if deal_id not in (None, ""):
        found_deal = (
            Deal.objects.filter(pk=deal_id).first()
            if isinstance(deal_id, int) and not isinstance(deal_id, bool)
            else None
        )
        if found_deal is None or found_deal.account_id != account.pk:
            errors.add("deal", _("Choose one of this account's deals (or none)."))
        else:
            taken = Referral.objects.filter(deal=found_deal)
            if current is not None:
                taken = taken.exclude(pk=current.pk)
            if taken.exists():
                errors.add(
                    "deal",
                    _("“%(title)s” already has a referral: change that one instead.")
                    % {"title": found_deal.title},
                )
            else:
                clean["deal"] = found_deal
    elif not errors.errors.get("deal"):
        taken = Referral.objects.filter(account=account, deal=None)
        if current is not None:
            taken = taken.exclude(pk=current.pk)
        if taken.exists():
            errors.add(
                "deal",
                _(
                    "This account already has a referral saying who brought it to us: change "
                    "that one, or choose the deal this referral is for."
                ),
            )
    # The day.
    day = _clean_day(referred_on, errors, "referred_on")
    if day is not None and day > timezone.localdate():
        errors.add("referred_on", _("The referral date cannot be in the future."))
    clean["referred_on"] = day or (current.referred_on if current else timezone.localdate())
    # The note.
    text = note if isinstance(note, str) else ""
    if note is not None and not isinstance(note, str):
        errors.add("note", _("Enter the note as text."))
    check_text_fields(Referral, {"note": text}, errors)
    if len(text) > 5000:
        errors.add("note", _("The note is too long: at most 5,000 characters."))
    check_plain_text("note", text, errors)
    clean["note"] = text.strip()
    # No loop: the account must not be above the referrer already.
    if (
        found_referrer is not None
        and not errors.errors
        and account.pk in _referred_up_ids(found_referrer.pk)
    ):
        errors.add(
            "referrer",
            _(
                "“%(referrer)s” was itself referred, directly or through others, by "
                "“%(account)s”: a referral back would make a loop."
            )
            % {"referrer": found_referrer.name, "account": account.name},
        )
    errors.raise_if_any()
    return clean


def _visible_account(actor: User, account: Account) -> Account:
    found = Account.objects.visible_to(actor).filter(pk=account.pk).first()
    if found is None:
        raise NotFound(_("No such account."))
    return found


@transaction.atomic
def referral_record(
    *,
    actor: User,
    account: Account,
    referrer: Account | int | None,
    referrer_contact: Contact | int | None = None,
    deal: Deal | int | None = None,
    referred_on: datetime.date | str | None = None,
    note: str = "",
) -> Referral:
    """Record that ``referrer`` brought ``account`` (or, with ``deal``, that deal) to us.

    Refused with field errors: the account itself as referrer, an account the actor may not
    see, a contact not of the referrer, a deal not of the account or already referred, a
    second "who brought this account" referral, a future date, and a loop in the tree.
    Audited on both accounts' histories.
    """
    _require_editor(actor)
    account = _visible_account(actor, account)
    if account.is_archived:
        raise ApplicationError(
            _("This account is archived: restore it before recording a referral.")
        )
    referrer_id = referrer.pk if isinstance(referrer, Account) else referrer
    if isinstance(referrer_id, int) and not isinstance(referrer_id, bool):
        _lock_accounts(account.pk, referrer_id)
    clean = _check_referral(
        actor=actor,
        account=account,
        referrer=referrer,
        referrer_contact=referrer_contact,
        deal=deal,
        referred_on=referred_on,
        note=note,
        current=None,
    )
    referral = Referral(account=account, recorded_by=actor, **clean)
    try:
        with transaction.atomic():
            referral.save()
    except IntegrityError:
        raise Conflict(
            _("Someone recorded this referral at the same time: reload the page.")
        ) from None
    fields = ["referrer", "referrer_contact", "deal", "referred_on", "note"]
    _audit(
        actor=actor,
        action="pipeline.referral.recorded",
        target=referral,
        label=referral_label(referral),
        scopes=[account_scope(account.pk), account_scope(referral.referrer_id)],
        changes=diff({}, snapshot(referral, fields)),
    )
    return referral


def _locked_referral(actor: User, referral: Referral) -> Referral:
    found = (
        # No joins in a locking query: PostgreSQL cannot lock the nullable side of an outer
        # join, and re-checks joined rows against their old versions after waiting.
        Referral.objects.select_for_update().filter(pk=referral.pk).first()
    )
    if found is None:
        raise NotFound(_("No such referral."))
    visible = _visible_ids(actor, {found.account_id, found.referrer_id})
    if found.account_id not in visible and found.referrer_id not in visible:
        raise NotFound(_("No such referral."))
    if found.account_id not in visible or found.referrer_id not in visible:
        raise PermissionDenied(
            _("You may change a referral only when you can see both of its accounts.")
        )
    return found


@transaction.atomic
def referral_update(
    *, actor: User, referral: Referral, data: dict[str, Any], version: int | None = None
) -> Referral:
    """Change a referral's ``referrer``, ``referrer_contact``, ``deal``, ``referred_on`` or
    ``note`` (only the keys given). Once a reward was granted the referrer and the deal stay:
    the reward went to that referrer for that deal. Same checks as ``referral_record``."""
    _require_editor(actor)
    unknown = set(data) - set(REFERRAL_FIELDS)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))}, status=422
        )
    referral = _locked_referral(actor, referral)
    check_version(record=referral, version=version)
    values = {
        "referrer": referral.referrer_id,
        "referrer_contact": referral.referrer_contact_id,
        "deal": referral.deal_id,
        "referred_on": referral.referred_on,
        "note": referral.note,
    }
    values.update(data)
    moved = values["referrer"] != referral.referrer_id or values["deal"] != referral.deal_id
    if moved and referral.rewards.exists():
        raise ApplicationError(
            _(
                "A reward was granted for this referral, so its referrer and deal stay as "
                "they are. Change the note or the date, or cancel the reward first."
            ),
            status=409,
            code="conflict",
        )
    if isinstance(values["referrer"], int) and not isinstance(values["referrer"], bool):
        _lock_accounts(referral.account_id, values["referrer"], referral.referrer_id)
    clean = _check_referral(
        actor=actor,
        account=referral.account,
        current=referral,
        **values,
    )
    fields = list(REFERRAL_FIELDS)
    before = snapshot(referral, fields)
    old_referrer = referral.referrer_id
    for key, value in clean.items():
        setattr(referral, key, value)
    changes = diff(before, snapshot(referral, fields))
    if not changes:
        return referral
    referral.version += 1
    referral.updated_at = timezone.now()
    referral.save(
        update_fields=[
            "referrer",
            "referrer_contact",
            "deal",
            "referred_on",
            "note",
            "version",
            "updated_at",
        ]
    )
    _audit(
        actor=actor,
        action="pipeline.referral.updated",
        target=referral,
        label=referral_label(referral),
        scopes=[
            account_scope(referral.account_id),
            account_scope(old_referrer),
            account_scope(referral.referrer_id),
        ],
        changes=changes,
    )
    return referral


@transaction.atomic
def referral_delete(*, actor: User, referral: Referral) -> None:
    """Delete a referral recorded by mistake; refused once a reward was granted for it."""
    _require_editor(actor)
    referral = _locked_referral(actor, referral)
    if referral.rewards.exists():
        raise ApplicationError(
            _(
                "A reward was granted for this referral, so it stays on record. Cancel the "
                "reward if it was a mistake."
            ),
            status=409,
            code="conflict",
        )
    label = referral_label(referral)
    fields = ["referrer", "referrer_contact", "deal", "referred_on", "note"]
    before = snapshot(referral, fields)
    _audit(
        actor=actor,
        action="pipeline.referral.deleted",
        target=referral,
        label=label,
        scopes=[account_scope(referral.account_id), account_scope(referral.referrer_id)],
        changes=diff(before, dict.fromkeys(fields)),
    )
    referral.delete()


# -- reward rules ----------------------------------------------------------------------------


def _clean_decimal(value: Any, errors: ErrorCollector, name: str, message: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool | float):
        errors.add(name, message)
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "").rstrip("%").strip())
    except InvalidOperation:
        errors.add(name, message)
        return None
    if not number.is_finite():
        errors.add(name, message)
        return None
    return number


def _clean_rule(data: dict[str, Any], current: ReferralRewardRule | None) -> dict[str, Any]:
    unknown = set(data) - set(RULE_FIELDS)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))}, status=422
        )
    values: dict[str, Any] = {}
    if current is not None:
        values = {name: getattr(current, name) for name in RULE_FIELDS}
    values.update(data)
    errors = ErrorCollector()
    name = values.get("name")
    name = name.strip() if isinstance(name, str) else ""
    check_text_fields(ReferralRewardRule, {"name": name}, errors)
    if not name:
        errors.add("name", _("Enter the rule's name, e.g. 紹介謝礼."))
    check_plain_text("name", name, errors)
    clean: dict[str, Any] = {"name": name}
    trigger = values.get("trigger")
    if trigger not in RewardTrigger.values:
        errors.add("trigger", _("Choose when the reward is granted."))
    clean["trigger"] = trigger
    kind = values.get("kind")
    if kind not in RewardKind.values:
        errors.add("kind", _("Choose the kind of reward."))
    clean["kind"] = kind
    currency = values.get("currency") or Currency.JPY
    if currency not in Currency.values:
        errors.add("currency", _("Choose one of: %(v)s.") % {"v": ", ".join(Currency.values)})
        currency = Currency.JPY
    clean["currency"] = currency
    amount = _clean_decimal(
        values.get("amount"), errors, "amount", _("Enter an amount such as 30000.")
    )
    percent = _clean_decimal(
        values.get("percent"), errors, "percent", _("Enter a percentage such as 5.")
    )
    points_value = values.get("points")
    points: int | None = None
    if points_value not in (None, ""):
        if isinstance(points_value, bool):
            errors.add("points", _("Enter a whole number of points."))
        else:
            try:
                points = int(str(points_value).strip().replace(",", ""))
            except ValueError:
                errors.add("points", _("Enter a whole number of points."))
    # Only the value of the chosen kind is kept; the others are cleared.
    clean.update(amount=None, percent=None, points=None)
    if kind == RewardKind.BONUS:
        if amount is None and "amount" not in errors.errors:
            errors.add("amount", _("A bonus needs an amount."))
        elif amount is not None:
            if amount <= 0 or amount >= AMOUNT_LIMIT:
                errors.add("amount", _("Enter an amount above 0 and below 10 trillion."))
            elif amount != quantize(amount, currency):
                errors.add(
                    "amount",
                    _("%(currency)s amounts have at most %(n)d decimals.")
                    % {"currency": currency, "n": minor_units(currency)},
                )
            else:
                clean["amount"] = quantize(amount, currency)
    elif kind == RewardKind.PERCENT:
        if percent is None and "percent" not in errors.errors:
            errors.add("percent", _("A percentage bonus needs a percentage."))
        elif percent is not None:
            if not (0 < percent <= 100) or percent != percent.quantize(Decimal("0.01")):
                errors.add(
                    "percent",
                    _("Enter a percentage above 0 and at most 100, with at most 2 decimals."),
                )
            else:
                clean["percent"] = percent
    elif kind == RewardKind.POINTS:
        if points is None and "points" not in errors.errors:
            errors.add("points", _("Loyalty points need a number of points."))
        elif points is not None:
            if not 0 < points <= POINTS_LIMIT:
                errors.add("points", _("Enter between 1 and 1,000,000,000 points."))
            else:
                clean["points"] = points
    valid_from = _clean_day(values.get("valid_from"), errors, "valid_from")
    valid_to = _clean_day(values.get("valid_to"), errors, "valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        errors.add("valid_to", _("The rule cannot end before it starts."))
    clean["valid_from"], clean["valid_to"] = valid_from, valid_to
    active = values.get("active", True)
    if not isinstance(active, bool):
        errors.add("active", _("Active is true or false."))
    clean["active"] = active if isinstance(active, bool) else True
    errors.raise_if_any()
    return clean


@transaction.atomic
def reward_rule_create(*, actor: User, data: dict[str, Any]) -> ReferralRewardRule:
    """Add a reward rule. ``data``: name, trigger, kind, and per kind ``amount`` (bonus, in
    ``currency``), ``percent`` (0–100, of the deal's or order's value) or ``points``;
    optional ``valid_from`` / ``valid_to`` and ``active``. Heads and administrators only."""
    _require_rewards_manager(actor)
    clean = _clean_rule(data, None)
    rule = ReferralRewardRule.objects.create(**clean)
    audit_record(
        actor=actor,
        action="pipeline.reward_rule.created",
        target=rule,
        changes=diff({}, snapshot(rule, RULE_FIELDS)),
        scope=reward_rule_scope(rule.pk),
    )
    return rule


def reward_rule_scope(rule_id: int) -> str:
    return f"pipeline:reward_rule:{rule_id}"


@transaction.atomic
def reward_rule_update(
    *,
    actor: User,
    rule: ReferralRewardRule,
    data: dict[str, Any],
    version: int | None = None,
) -> ReferralRewardRule:
    """Change a rule (the keys given). Rewards granted before keep their values."""
    _require_rewards_manager(actor)
    found = ReferralRewardRule.objects.select_for_update().filter(pk=rule.pk).first()
    if found is None:
        raise NotFound(_("No such reward rule."))
    rule = found
    check_version(record=rule, version=version)
    clean = _clean_rule(data, rule)
    before = snapshot(rule, RULE_FIELDS)
    for key, value in clean.items():
        setattr(rule, key, value)
    changes = diff(before, snapshot(rule, RULE_FIELDS))
    if not changes:
        return rule
    rule.version += 1
    rule.updated_at = timezone.now()
    rule.save(update_fields=[*RULE_FIELDS, "version", "updated_at"])
    audit_record(
        actor=actor,
        action="pipeline.reward_rule.updated",
        target=rule,
        changes=changes,
        scope=reward_rule_scope(rule.pk),
    )
    return rule


def reward_rule_deactivate(*, actor: User, rule: ReferralRewardRule) -> ReferralRewardRule:
    """Stop a rule: it grants nothing more; rewards already granted stay."""
    return reward_rule_update(actor=actor, rule=rule, data={"active": False})


# -- applying rules --------------------------------------------------------------------------


def _rules_valid_on(trigger: str, day: datetime.date) -> list[ReferralRewardRule]:
    return list(
        ReferralRewardRule.objects.filter(active=True, trigger=trigger)
        .filter(Q(valid_from=None) | Q(valid_from__lte=day))
        .filter(Q(valid_to=None) | Q(valid_to__gte=day))
        .order_by("pk")
    )


def _grant(
    *,
    actor: Any,
    referral: Referral,
    rules: list[ReferralRewardRule],
    source: str,
    value: Decimal,
    currency: str,
    because: str,
) -> list[ReferralReward]:
    """Grant each rule's reward once for ``referral``; audit and tell the referrer's owner."""
    granted: list[ReferralReward] = []
    done = set(
        ReferralReward.objects.filter(referral=referral, rule__in=rules).values_list(
            "rule_id", flat=True
        )
    )
    for rule in rules:
        if rule.pk in done:
            continue
        reward = ReferralReward(referral=referral, rule=rule, source=source[:100])
        if rule.kind == RewardKind.POINTS:
            reward.points, reward.currency = rule.points, rule.currency
        elif rule.kind == RewardKind.PERCENT:
            if rule.percent is None:
                continue
            reward.amount = quantize(value * rule.percent / 100, currency)
            reward.currency = currency
            if reward.amount <= 0:
                continue  # a zero-valued deal or order earns no percentage bonus
        else:
            if rule.amount is None:
                continue
            reward.amount, reward.currency = rule.amount, rule.currency
        try:
            with transaction.atomic():
                reward.save()
        except IntegrityError:
            continue  # granted at the same moment by another call
        _audit(
            actor=actor,
            action="pipeline.referral.reward_granted",
            target=reward,
            label=reward_label(reward),
            scopes=[account_scope(referral.referrer_id)],
            changes={
                "reward": [None, reward_value_display(reward)],
                "rule": [None, rule.name],
                "because": [None, because],
            },
        )
        granted.append(reward)
    if granted:
        owner = referral.referrer.owner
        names = ", ".join(reward_label(r) for r in granted)
        notify(
            users=[owner],
            title=_("Referral reward for %(referrer)s: %(rewards)s")
            % {"referrer": referral.referrer.name, "rewards": names},
            body=because,
            url=reverse("accounts:detail", args=[referral.referrer_id]),
        )
    return granted


def _referral_for_account(account_id: int, deal_id: int | None = None) -> Referral | None:
    """The deal's own referral, else the account's, else the account's oldest deal referral
    (locked: two calls at once grant once)."""
    rows = Referral.objects.select_for_update()  # no joins while locking (see _locked_referral)
    if deal_id is not None:
        own = rows.filter(deal_id=deal_id).first()
        if own is not None:
            return own
    found = rows.filter(account_id=account_id, deal=None).first()
    if found is None and deal_id is None:
        found = rows.filter(account_id=account_id).order_by("referred_on", "pk").first()
    return found


@transaction.atomic
def referral_rewards_on_deal_won(*, deal: Deal, actor: User | None) -> list[ReferralReward]:
    """Grant the ``first_deal_won`` rewards when ``deal`` is its account's first won deal.

    Called by ``deal_win`` after the deal is won, inside its transaction. The referral is the
    deal's own, else the account's; the rules are the active ones valid on the day the deal
    was closed. Percentage rules take the deal's value in its currency. Does nothing when the
    deal is not won, the account was not referred, or it has won a deal before; calling it
    again grants nothing new. Returns the rewards granted now.
    """
    deal = Deal.objects.select_related("stage", "account").get(pk=deal.pk)
    if deal.stage.kind != StageKind.WON:
        return []
    referral = _referral_for_account(deal.account_id, deal.pk)
    if referral is None:
        return []
    # Another deal of the account won before this one (or at the same moment, with a lower id;
    # a won deal without a close time counts as earlier): this is not the first.
    others = Deal.objects.filter(account_id=deal.account_id, stage__kind=StageKind.WON).exclude(
        pk=deal.pk
    )
    if deal.closed_at is not None:
        others = others.filter(
            Q(closed_at=None)
            | Q(closed_at__lt=deal.closed_at)
            | Q(closed_at=deal.closed_at, pk__lt=deal.pk)
        )
    if others.exists():
        return []
    day = timezone.localdate(deal.closed_at) if deal.closed_at else timezone.localdate()
    rules = _rules_valid_on(RewardTrigger.FIRST_DEAL_WON, day)
    if not rules:
        return []
    because = _("%(account)s won its first deal: %(deal)s (%(value)s).") % {
        "account": deal.account.name,
        "deal": deal.title,
        "value": format_money(deal.value, deal.currency),
    }
    return _grant(
        actor=actor,
        referral=referral,
        rules=rules,
        source=f"deal:{deal.pk}",
        value=deal.value,
        currency=deal.currency,
        because=because,
    )


@transaction.atomic
def referral_rewards_on_order_paid(
    *,
    account: Account,
    order_ref: str,
    amount: Decimal,
    paid_on: datetime.date,
    actor: User | None,
    currency: str = Currency.JPY,
) -> list[ReferralReward]:
    """Grant the ``first_order_paid`` rewards of the account's referral for a paid order.

    The orders (issue 7) call it for every paid order with its reference ("order:7" or "7"),
    amount and currency. Each rule grants once per referral, so only the first paid order after
    a rule applies earns it; later orders grant nothing. Rules valid on ``paid_on`` apply;
    percentage rules take ``amount``. Returns the rewards granted now.
    """
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise ApplicationError(_("Enter the order's amount."), field="amount")
    if isinstance(paid_on, datetime.datetime) or not isinstance(paid_on, datetime.date):
        raise ApplicationError(_("Enter the day the order was paid."), field="paid_on")
    if currency not in Currency.values:
        raise ApplicationError(
            _("Choose one of: %(v)s.") % {"v": ", ".join(Currency.values)}, field="currency"
        )
    ref = str(order_ref).strip()
    source = ref if ref.startswith("order:") else f"order:{ref}"
    referral = _referral_for_account(account.pk)
    if referral is None:
        return []
    rules = _rules_valid_on(RewardTrigger.FIRST_ORDER_PAID, paid_on)
    if not rules:
        return []
    because = _("%(account)s paid its first order: %(order)s (%(value)s).") % {
        "account": referral.account.name,
        "order": source.removeprefix("order:"),
        "value": format_money(Decimal(amount), currency),
    }
    return _grant(
        actor=actor,
        referral=referral,
        rules=rules,
        source=source,
        value=Decimal(amount),
        currency=currency,
        because=because,
    )


def _settle(*, actor: User, reward: ReferralReward, status: str, action: str) -> ReferralReward:
    _require_rewards_manager(actor)
    found = (
        ReferralReward.objects.select_for_update()  # no joins while locking
        .filter(pk=reward.pk)
        .first()
    )
    if found is None or not _visible_ids(
        actor, {found.referral.account_id, found.referral.referrer_id}
    ):
        raise NotFound(_("No such referral reward."))
    reward = found
    if reward.status == status:
        return reward
    if reward.status != RewardStatus.GRANTED:
        message = (
            _("This reward was cancelled: it cannot be paid.")
            if reward.status == RewardStatus.CANCELLED
            else _("This reward was paid already: it cannot be cancelled.")
        )
        raise ApplicationError(message, status=409, code="conflict")
    before = reward.status
    reward.status = status
    reward.save(update_fields=["status"])
    _audit(
        actor=actor,
        action=action,
        target=reward,
        label=reward_label(reward),
        scopes=[account_scope(reward.referral.referrer_id)],
        changes={"status": [before, status]},
    )
    return reward


@transaction.atomic
def reward_mark_paid(*, actor: User, reward: ReferralReward) -> ReferralReward:
    """Record that a granted reward was paid out (or the points credited)."""
    return _settle(
        actor=actor, reward=reward, status=RewardStatus.PAID, action="pipeline.referral.reward_paid"
    )


@transaction.atomic
def reward_cancel(*, actor: User, reward: ReferralReward) -> ReferralReward:
    """Cancel a granted reward that will not be paid; it stays on record."""
    return _settle(
        actor=actor,
        reward=reward,
        status=RewardStatus.CANCELLED,
        action="pipeline.referral.reward_cancelled",
    )


def referral_merge_check(*, survivor: Account, merged: Account) -> None:
    """Refuse a merge that would break the referral rules: a referral between the two accounts
    (the survivor would have referred itself), or both accounts with their own "who brought it"
    referral (one per account). Say what to do first."""
    between = Referral.objects.filter(
        Q(account=survivor, referrer=merged) | Q(account=merged, referrer=survivor)
    )
    if between.exists():
        raise Conflict(
            _(
                "One of these accounts referred the other: delete that referral on the referred "
                "account's page before merging them."
            )
        )
    both = Referral.objects.filter(account__in=[survivor, merged], deal=None).count() > 1
    if both:
        raise Conflict(
            _(
                "Both accounts have a referral saying who brought them to us: delete the wrong "
                "one before merging."
            )
        )
