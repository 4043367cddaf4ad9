from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from reviews.disputes.services import COMMENT_MAX, RESOLUTIONS
from reviews.models import DisputeKind
from targets.forms import AmountField
from targets.models import User
from targets.money import MONEY

DEAL_KINDS = [(k.value, k.label) for k in DisputeKind if k != DisputeKind.MISSING_DEAL]


class SplitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return str(obj)


class DealDisputeForm(forms.Form):
    """Flag a deal the rep can see as wrong (optionally one rep's credit split of it)."""

    kind = forms.ChoiceField(label=_("What is wrong"), choices=DEAL_KINDS)
    split_user = SplitChoiceField(
        label=_("Credit split"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("The whole deal"),
    )
    comment = forms.CharField(
        label=_("Comment"),
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What is wrong and what it should be, for your manager."),
    )

    def __init__(self, *args, split_users, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["split_user"].queryset = split_users
        if not split_users.exists():
            del self.fields["split_user"]


class MissingDealForm(forms.Form):
    """Flag a won deal missing from the rep's actuals: account, amount and close date."""

    account = forms.CharField(label=_("Account"), max_length=200)
    amount = AmountField(
        label=_("Amount"),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("In CNY; 万 may be used, e.g. 65万."),
        min_value=0,
        **MONEY,
    )
    close_date = forms.DateField(
        label=_("Close date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    comment = forms.CharField(
        label=_("Comment"),
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Where the deal should come from (CRM record, contract), for your manager."),
    )


class ResolutionForm(forms.Form):
    resolution = forms.ChoiceField(
        choices=[(r.value, r.label) for r in RESOLUTIONS], widget=forms.HiddenInput
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when rejecting; the rep reads it."),
    )
