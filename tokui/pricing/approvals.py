"""Authority limits and approvals (稟議) — owned by the approvals work; interface fixed here.

``agreement_propose_terms`` is what pages and the API call to change an agreement's special
prices and discounts: within the actor's authority (and, for terms already approved, an
authority that covers them) the terms apply at once; otherwise an approval request is opened
and the terms apply when the last approver approves.
"""

from dataclasses import dataclass
from typing import Any

from tokui.pricing.models import Agreement, ApprovalRequest
from tokui.pricing.services import agreement_set_terms
from tokui.users.models import User


@dataclass(frozen=True)
class TermsOutcome:
    agreement: Agreement
    applied: bool  # True: the terms are in force now
    request: ApprovalRequest | None = None  # the request opened when they need approval


def agreement_propose_terms(
    *,
    actor: User,
    agreement: Agreement,
    prices: list[dict[str, Any]],
    discounts: list[dict[str, Any]],
    version: int | None = None,
    reason: str = "",
) -> TermsOutcome:
    """Change the agreement's terms now, or open an approval request for them (STUB: applies)."""
    agreement = agreement_set_terms(
        actor=actor, agreement=agreement, prices=prices, discounts=discounts, version=version
    )
    return TermsOutcome(agreement=agreement, applied=True)
