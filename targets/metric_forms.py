"""Forms of the process-metric pages: the definition with its derivation builder (choices
from the whitelist only) and the weekly value entry. Forms check shape; services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from targets.metric_fields import OPERATORS, RECORDS
from targets.models import (
    DerivationKind,
    Metric,
    MetricAggregation,
    MetricCategory,
    MetricDirection,
    MetricUnit,
    RecordType,
)

# Field labels for the builder's choices, in both languages.
FIELD_LABELS = {
    "won": _("won"),
    "stage": _("stage"),
    "account": _("account"),
    "source": _("source"),
    "amount": _("amount"),
    "close_date": _("close date"),
    "source_created_at": _("created at source"),
    "kind": _("kind"),
    "completed": _("completed"),
    "key_account": _("key account"),
    "occurred_on": _("date"),
}


def _field_choices():
    """Every whitelisted field, grouped by record type (the service checks the pairing)."""
    return [
        ("", "—"),
        *[
            (
                RecordType(record).label,
                [(name, f"{FIELD_LABELS.get(name, name)} ({name})") for name in spec.fields],
            )
            for record, spec in RECORDS.items()
        ],
    ]


class MetricForm(forms.Form):
    code = forms.SlugField(
        label=_("Code"),
        max_length=32,
        help_text=_("Letters, digits, _ or -; used in imports and the API."),
    )
    name = forms.CharField(label=_("Name (Chinese)"), max_length=100)
    name_en = forms.CharField(label=_("Name (English)"), max_length=100, required=False)
    category = forms.ChoiceField(label=_("Category"), choices=MetricCategory.choices)
    unit = forms.ChoiceField(label=_("Measured in"), choices=MetricUnit.choices)
    aggregation = forms.ChoiceField(
        label=_("Aggregation"),
        choices=MetricAggregation.choices,
        help_text=_("How weeks and reps add up: a month's actual, a team's week."),
    )
    direction = forms.ChoiceField(label=_("Direction"), choices=MetricDirection.choices)
    weekly_plan = forms.DecimalField(
        label=_("Weekly plan per rep"), min_value=0, max_digits=16, decimal_places=2
    )
    key = forms.BooleanField(
        label=_("Key indicator (deviation trigger and alerts)"), required=False
    )
    warn_at = forms.DecimalField(
        label=_("Warn at (short of plan, %)"),
        min_value=0,
        max_digits=7,
        decimal_places=2,
        required=False,
        help_text=_("A week this far worse than plan, in the bad direction, is flagged yellow."),
    )
    alert_at = forms.DecimalField(
        label=_("Alert at (short of plan, %)"),
        min_value=0,
        max_digits=7,
        decimal_places=2,
        required=False,
        help_text=_("Red and an alert for a key metric; must be above the warning threshold."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    derivation = forms.ChoiceField(
        label=_("Values come from"), choices=DerivationKind.choices, initial=DerivationKind.NONE
    )
    record_type = forms.ChoiceField(
        label=_("Synced records"), choices=[("", "—"), *RecordType.choices], required=False
    )
    field = forms.ChoiceField(
        label=_("Field (sum) or from date (duration)"), choices=_field_choices, required=False
    )
    field_to = forms.ChoiceField(
        label=_("To date (duration)"), choices=_field_choices, required=False
    )

    @classmethod
    def initial_for(cls, metric: Metric) -> dict:
        return {name: getattr(metric, name) for name in cls.base_fields}


class FilterRowForm(forms.Form):
    field = forms.ChoiceField(label=_("Field"), choices=_field_choices, required=False)
    op = forms.ChoiceField(
        label=_("Operator"), choices=[(k, v) for k, v in OPERATORS.items()], required=False
    )
    value = forms.CharField(label=_("Value"), max_length=200, required=False)


FilterFormSet = forms.formset_factory(FilterRowForm, extra=2, max_num=10, absolute_max=10)


def filters_from(formset) -> list[dict]:
    """The filled rows as the service takes them (blank rows are ignored)."""
    return [
        {"field": row["field"], "op": row["op"] or "eq", "value": row["value"]}
        for row in (form.cleaned_data for form in formset.forms if form.cleaned_data)
        if row.get("field")
    ]


class MetricValueForm(forms.Form):
    rep = forms.ModelChoiceField(label=_("Rep"), queryset=None)
    week = forms.CharField(
        label=_("Week"), max_length=10, help_text=_("An ISO week, e.g. 2025-W20.")
    )
    value = forms.CharField(label=_("Value"), max_length=40)

    def __init__(self, *args, reps, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rep"].queryset = reps
