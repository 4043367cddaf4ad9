from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from reviews.models import ProposalReason
from targets.forms import AmountField
from targets.models import Target
from targets.money import MONEY


class TargetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Target) -> str:
        return f"{obj.owner_name} · {obj.period}"


class ProposalForm(forms.Form):
    target = TargetChoiceField(label=_("Target"), queryset=Target.objects.none())
    proposed_base = AmountField(
        label=_("Proposed Base"),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("In CNY; 万 may be used, e.g. 650万."),
        min_value=0,
        **MONEY,
    )
    proposed_stretch = AmountField(
        label=_("Proposed Stretch"),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        min_value=0,
        **MONEY,
    )
    reason = forms.ChoiceField(label=_("Reason"), choices=ProposalReason.choices)
    explanation = forms.CharField(
        label=_("Explanation"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What changed in the market, with customers or in the team."),
    )
    attachment = forms.FileField(
        label=_("Attachment"),
        required=False,
        widget=forms.FileInput(
            attrs={"accept": ".pdf,.png,.jpg,.jpeg,.xlsx,application/pdf,image/png,image/jpeg"}
        ),
        help_text=_(
            "Optional: a PDF, a PNG or JPEG image, or an Excel (XLSX) workbook; at most 10 MB."
        ),
    )

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = targets

    def clean(self):
        data = super().clean()
        base, stretch = data.get("proposed_base"), data.get("proposed_stretch")
        if base is not None and stretch is not None and stretch < base:
            self.add_error("proposed_stretch", _("Stretch must be at least Base."))
        return data


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("reject", _("Reject"))], widget=forms.HiddenInput
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when rejecting; the author reads it."),
    )
