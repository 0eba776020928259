"""Forms of the referral pages: they parse what a person typed; the services decide."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tokui.accounts.forms import ServiceErrorsMixin
from tokui.accounts.models import Account, Contact
from tokui.accounts.selectors import account_list
from tokui.catalog.constants import Currency
from tokui.pipeline.constants import RewardKind, RewardTrigger
from tokui.pipeline.models import Deal
from tokui.users.models import User

REFERRER_CHOICES_SHOWN = 20
_DATE = {"type": "date"}


def _date_field(label: Any, required: bool = False, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d"),
        **kwargs,
    )


def _chosen_id(form: forms.Form, name: str) -> int | None:
    value = form.data.get(name) if form.is_bound else form.initial.get(name)
    text = str(value or "")
    return int(text) if text.isdecimal() and len(text) < 19 else None


class ReferralForm(ServiceErrorsMixin, forms.Form):
    """Who referred ``account``: the referrer is found like the account form's parent company
    (a "find" box, with htmx as one types or the "Find" button without JavaScript), then one of
    its contacts; optionally one of the account's deals."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    referrer = forms.IntegerField(
        label=_("Referred by"),
        required=False,
        widget=forms.Select,
        help_text=_("The company that introduced this account (or the deal) to us."),
    )
    referrer_q = forms.CharField(
        label=_("Find the referring company"), required=False, max_length=200
    )
    referrer_contact = forms.IntegerField(
        label=_("Person who referred"), required=False, widget=forms.Select
    )
    deal = forms.IntegerField(
        label=_("Referred deal"),
        required=False,
        widget=forms.Select,
        help_text=_("Leave empty when the referral brought the account itself."),
    )
    referred_on = _date_field(_("Referred on"), required=True)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        *args: Any,
        viewer: User,
        account: Account,
        search: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        chosen = _chosen_id(self, "referrer")
        visible = Account.objects.visible_to(viewer)
        options: list[Account] = []
        if chosen is not None:
            options.extend(visible.filter(pk=chosen))
        search = search.strip()[:200]
        hits: list[Account] = []
        if search:
            hits = list(
                account_list(viewer=viewer, search=search).exclude(pk=account.pk)[
                    :REFERRER_CHOICES_SHOWN
                ]
            )
            options.extend(a for a in hits if a.pk != chosen)
        choices: list[tuple[Any, str]] = [("", str(_("— Find the company below —")))]
        choices += [
            (a.pk, f"{a.name}{' · ' + a.prefecture if a.prefecture else ''}") for a in options
        ]
        self.fields["referrer"].widget.choices = choices  # type: ignore[attr-defined]
        self.referrer_found = len(hits)
        self.referrer_searched = bool(search)
        # The contacts of the chosen referrer (none until one is chosen).
        contacts = (
            list(Contact.objects.filter(account_id=options[0].pk, archived_at=None))
            if options and chosen is not None
            else []
        )
        contact_choices: list[tuple[Any, str]] = [("", "—")]
        contact_choices += [
            (c.pk, f"{c.full_name}{' · ' + c.department if c.department else ''}") for c in contacts
        ]
        self.fields["referrer_contact"].widget.choices = contact_choices  # type: ignore[attr-defined]
        deals = Deal.objects.filter(account=account, archived_at=None).order_by("-created_at")[:100]
        deal_choices: list[tuple[Any, str]] = [("", str(_("— None: the account itself —")))]
        deal_choices += [(d.pk, d.title) for d in deals]
        self.fields["deal"].widget.choices = deal_choices  # type: ignore[attr-defined]
        self.has_deals = len(deal_choices) > 1
        if not self.has_deals:
            # Nothing to choose: the field is left out, so a service error about the deal (the
            # account has its referral already) shows at the top of the form.
            del self.fields["deal"]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "referrer": data.get("referrer"),
            "referrer_contact": data.get("referrer_contact"),
            "deal": data.get("deal"),
            "referred_on": data.get("referred_on"),
            "note": data.get("note") or "",
        }


class RewardRuleForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("Name"), max_length=200)
    trigger = forms.ChoiceField(label=_("Granted when"), choices=RewardTrigger.choices)
    kind = forms.ChoiceField(label=_("Reward"), choices=RewardKind.choices)
    amount = forms.CharField(
        label=_("Amount"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "num"}),
        help_text=_("For a bonus, e.g. 30000."),
    )
    percent = forms.CharField(
        label=_("Percent"),
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "num"}),
        help_text=_("For a percentage bonus: of the first deal's or order's value."),
    )
    points = forms.IntegerField(
        label=_("Points"),
        required=False,
        min_value=1,
        max_value=1_000_000_000,
        help_text=_("For loyalty points."),
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    valid_from = _date_field(_("Valid from"))
    valid_to = _date_field(_("Valid until"))

    def service_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}
