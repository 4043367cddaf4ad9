from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from reviews.meeting_models import SCORE_CHOICES, ItemDecision
from targets.forms import AmountField
from targets.models import OrgUnit, User
from targets.money import MONEY

MONTH = RegexValidator(r"^\d{4}-(0[1-9]|1[0-2])$", _("Give a month like 2025-05."))


class MemberChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        # "Sales manager · 华东 East": which business each candidate leads.
        roles = ", ".join(
            sorted(
                {
                    f"{a.get_role_display()} · {a.unit.name}"
                    if a.unit
                    else str(a.get_role_display())
                    for a in obj.role_assignments.all()
                }
            )
        )
        return f"{obj} ({roles})" if roles else str(obj)


class MeetingForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=OrgUnit.objects.none())
    month = forms.CharField(
        label=_("Month"),
        max_length=7,
        validators=[MONTH],
        widget=forms.TextInput(attrs={"type": "month"}),
        help_text=_("The month under review, e.g. 2025-05."),
    )
    members = MemberChoiceField(
        label=_("Members"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The business lead and the finance representative."),
    )

    def __init__(self, *args, units, users, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["members"].queryset = users.prefetch_related("role_assignments__unit")


BLANK_SCORE = [("", "—")] + [(str(v), label) for v, label in SCORE_CHOICES]


class ScoreForm(forms.Form):
    market = forms.TypedChoiceField(
        label=_("Market data"), choices=BLANK_SCORE, coerce=int, empty_value=None, required=False
    )
    customer = forms.TypedChoiceField(
        label=_("Customer feedback"),
        choices=BLANK_SCORE,
        coerce=int,
        empty_value=None,
        required=False,
    )
    capacity = forms.TypedChoiceField(
        label=_("Team capacity"), choices=BLANK_SCORE, coerce=int, empty_value=None, required=False
    )
    notes = forms.CharField(
        label=_("My notes"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ItemDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=ItemDecision.choices, widget=forms.RadioSelect
    )
    new_base = AmountField(
        label=_("New Base"),
        required=False,
        min_value=0,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        **MONEY,
    )
    new_stretch = AmountField(
        label=_("New Stretch"),
        required=False,
        min_value=0,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        **MONEY,
    )
    note = forms.CharField(
        label=_("Chair's notes"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
