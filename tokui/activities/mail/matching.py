"""Which contacts and which account a mail belongs to.

In order of strength: a counterpart address that is a contact's (``Contact.email_key``,
case-insensitive) → that contact's account; a thread header (In-Reply-To / References) naming a
message Tokui already stored → that message's account; the counterpart's company domain equal to
an account's ``web_domain`` (never a free-mail domain such as gmail.com or yahoo.co.jp, where
the domain says nothing about the company).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q

from tokui.accounts.models import Account, Contact
from tokui.activities.models import Interaction
from tokui.users.models import User

# Free-mail and carrier domains: an address there does not identify a company.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.co.jp",
        "ymail.ne.jp",
        "yahoo.com",
        "outlook.jp",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.jp",
        "live.jp",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "docomo.ne.jp",
        "ezweb.ne.jp",
        "au.com",
        "softbank.ne.jp",
        "i.softbank.jp",
        "nifty.com",
        "biglobe.ne.jp",
        "ocn.ne.jp",
        "so-net.ne.jp",
        "excite.co.jp",
        "mail.ru",
        "qq.com",
        "163.com",
        "naver.com",
    }
)
# Second-level names under which a domain of two labels is a registry, not a company.
_REGISTRY_SUFFIXES = frozenset(
    {
        "co.jp",
        "or.jp",
        "ne.jp",
        "ac.jp",
        "ad.jp",
        "ed.jp",
        "go.jp",
        "gr.jp",
        "lg.jp",
        "co.uk",
        "org.uk",
        "com.cn",
        "com.tw",
        "com.au",
        "co.kr",
    }
)


def address_domain(address: str) -> str:
    return address.rpartition("@")[2].strip().lower().rstrip(".")


def is_free_mail(address: str) -> bool:
    domain = address_domain(address)
    return any(domain == d or domain.endswith("." + d) for d in FREE_MAIL_DOMAINS)


def _domain_candidates(domain: str) -> list[str]:
    """``mail.tokyo.example.co.jp`` → itself, ``tokyo.example.co.jp``, ``example.co.jp``."""
    labels = domain.split(".")
    found = []
    for i in range(len(labels) - 1):
        candidate = ".".join(labels[i:])
        if candidate in _REGISTRY_SUFFIXES or candidate.count(".") < 1:
            break
        found.append(candidate)
    return found


def account_for_domain(address: str) -> Account | None:
    """The one live account whose website is on the address's company domain, if exactly one."""
    if not address or is_free_mail(address):
        return None
    for candidate in _domain_candidates(address_domain(address)):
        accounts = list(
            Account.objects.filter(web_domain=candidate, archived_at=None).order_by("id")[:2]
        )
        if len(accounts) == 1:
            return accounts[0]
        if accounts:
            return None  # two companies on one domain: do not guess
    return None


def contacts_by_address(addresses: Iterable[str]) -> dict[str, list[Contact]]:
    """Live contacts per lower-cased address, oldest first."""
    keys = sorted({a.lower() for a in addresses if a})
    found: dict[str, list[Contact]] = {}
    if not keys:
        return found
    for contact in (
        Contact.objects.filter(email_key__in=keys, archived_at=None, account__archived_at=None)
        .select_related("account")
        .order_by("id")
    ):
        found.setdefault(contact.email_key, []).append(contact)
    return found


def users_by_address(addresses: Iterable[str]) -> dict[str, User]:
    """Active Tokui users per lower-cased address (our own people, never customers)."""
    keys = {a.lower() for a in addresses if a}
    users: dict[str, User] = {}
    if not keys:
        return users
    wanted = Q()
    for key in sorted(keys):
        wanted |= Q(email__iexact=key)
    for user in User.objects.filter(wanted, is_active=True).order_by("id"):
        users.setdefault(user.email.lower(), user)
    return users


def interaction_in_thread(message_ids: Iterable[str]) -> Interaction | None:
    """The latest stored message that this one answers or refers to."""
    ids = [m for m in message_ids if m]
    if not ids:
        return None
    return (
        Interaction.objects.filter(message_id__in=ids, archived_at=None)
        .select_related("account")
        .order_by("-occurred_at", "-id")
        .first()
    )


@dataclass
class Match:
    account: Account | None = None
    contacts: list[Contact] = field(default_factory=list)
    thread: Interaction | None = None
    how: str = ""  # "contact", "thread" or "domain"
    unknown_sender: bool = False  # the sender is neither a contact nor one of us


def match_mail(
    *,
    sender: str,
    recipients: list[str],
    own_addresses: Iterable[str],
    thread_ids: list[str],
    outgoing: bool,
) -> Match:
    """Contacts and account of a mail.

    ``own_addresses`` (the mailbox's and our users') are never counterparts. For a mail we sent
    the counterparts are the recipients; for a received one the sender comes first.
    """
    own = {a.lower() for a in own_addresses if a}
    ordered = [recipients, [sender]] if outgoing else [[sender], recipients]
    counterparts: list[str] = []
    for group in ordered:
        for addr in group:
            key = addr.lower()
            if key and key not in own and key not in counterparts:
                counterparts.append(key)
    by_address = contacts_by_address(counterparts)
    match = Match(unknown_sender=not outgoing and sender.lower() not in by_address)
    for addr in counterparts:
        if by_address.get(addr):
            match.account = by_address[addr][0].account
            match.how = "contact"
            break
    match.thread = interaction_in_thread(thread_ids)
    if match.account is None and match.thread is not None:
        match.account, match.how = match.thread.account, "thread"
    if match.account is None:
        for addr in counterparts:
            if account := account_for_domain(addr):
                match.account, match.how = account, "domain"
                break
    if match.account is not None:
        match.contacts = [
            c
            for addr in counterparts
            for c in by_address.get(addr, [])
            if c.account_id == match.account.pk
        ]
    return match
