"""Forms of the quarter target grid: one per row, the tools' parameters, the XLSX upload.

They check the shape of what was typed; `services.target_grid_save` decides.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from targets.forms import MONEY, AmountField, amount_text
from targets.selectors.grid import FIELDS, WEIGHT_FIELDS, Draft, SplitMode
from targets.services import GridRow

HUNDRED = Decimal(100)


class GridAmountField(AmountField):
    """An amount as people type it ("1,500,000", "150万"); absurd exponents are a form error."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ArithmeticError:  # decimal.Overflow from "1e999999万"
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class WeightField(forms.DecimalField):
    """A month's weight: 0.3 or 30%."""

    def to_python(self, value):
        if isinstance(value, str) and value.strip().endswith("%"):
            try:
                return Decimal(value.strip()[:-1].strip()) / HUNDRED
            except (InvalidOperation, ArithmeticError):
                raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        return super().to_python(value)


def weight_text(weight: Decimal | None) -> str:
    if weight is None:
        return ""
    return f"{weight.normalize():f}"


def value_text(name: str, value: Decimal | None) -> str:
    """How a value fills its input."""
    if name in WEIGHT_FIELDS:
        return weight_text(value)
    return amount_text(value)


class GridRowForm(forms.Form):
    base = GridAmountField(required=False, **MONEY)
    stretch = GridAmountField(required=False, **MONEY)
    w1 = WeightField(required=False, min_value=Decimal(0), max_value=Decimal(1), decimal_places=6)
    w2 = WeightField(required=False, min_value=Decimal(0), max_value=Decimal(1), decimal_places=6)
    w3 = WeightField(required=False, min_value=Decimal(0), max_value=Decimal(1), decimal_places=6)
    base_bonus = GridAmountField(required=False, **MONEY)
    stretch_bonus = GridAmountField(required=False, **MONEY)
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, name: str, has_target: bool, month_titles: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.has_target = has_target
        labels = {
            "base": _("Base"),
            "stretch": _("Stretch"),
            "base_bonus": _("Base bonus"),
            "stretch_bonus": _("Stretch bonus"),
        }
        for field_name, title in zip(WEIGHT_FIELDS, month_titles, strict=True):
            labels[field_name] = _("Weight of %(month)s") % {"month": title}
        for field_name, label in labels.items():
            field = self.fields[field_name]
            field.label = label
            field.widget = forms.TextInput()
            css = "input-weight" if field_name in WEIGHT_FIELDS else "input-amount"
            field.widget.attrs.update(
                {
                    "class": css,
                    "inputmode": "decimal",
                    "autocomplete": "off",
                    "aria-label": f"{name} · {label}",
                }
            )
        self.fields["base"].required = self.fields["stretch"].required = has_target

    def clean(self):
        data = super().clean()
        base, stretch = data.get("base"), data.get("stretch")
        if (
            not self.has_target
            and (base is None) != (stretch is None)
            and not self.has_error("base")
            and not self.has_error("stretch")
        ):
            missing = "stretch" if stretch is None else "base"
            self.add_error(missing, _("Give both Base and Stretch, or leave both empty."))
        weights = [data.get(f) for f in WEIGHT_FIELDS]
        if not any(self.has_error(f) for f in WEIGHT_FIELDS):
            given = [w is not None for w in weights]
            if any(given) and not all(given):
                self.add_error("w1", _("Give all three monthly weights, or none."))
        return data

    def row(self, *, key: str, line) -> GridRow:
        data = self.cleaned_data
        weights = tuple(data.get(f) for f in WEIGHT_FIELDS)
        return GridRow(
            key=key,
            owner_unit=line.unit,
            owner_user=line.user,
            target=line.target,
            version=data.get("version"),
            base=data.get("base"),
            stretch=data.get("stretch"),
            phasing=weights if all(w is not None for w in weights) else None,  # type: ignore[arg-type]
            base_bonus=data.get("base_bonus"),
            stretch_bonus=data.get("stretch_bonus"),
        )


def initial_data(prefix: str, draft: Draft, version: int | None) -> dict[str, str]:
    """A row's values as the inputs show them, keyed like the POST they come back in."""
    data = {f"{prefix}-{name}": value_text(name, getattr(draft, name)) for name in FIELDS}
    data[f"{prefix}-version"] = str(version or "")
    return data


def lenient_draft(prefix: str, data) -> Draft:
    """What a row's inputs say, reading each field on its own: unreadable → None."""
    values = {}
    for name in FIELDS:
        field = GridRowForm.base_fields[name]
        try:
            values[name] = field.clean(data.get(f"{prefix}-{name}", ""))
        except ValidationError:
            values[name] = None
    return Draft(**values)


class GridToolForm(forms.Form):
    percent = forms.DecimalField(
        label=_("Change (%)"),
        required=False,
        min_value=Decimal(-100),
        max_value=Decimal(1000),
        max_digits=7,
        decimal_places=2,
    )
    split_mode = forms.ChoiceField(
        label=_("Split"),
        required=False,
        choices=[
            (SplitMode.EVEN, _("evenly")),
            (SplitMode.CURRENT, _("by the children's current Base (as weights)")),
            (SplitMode.ACTUALS, _("by last quarter's actuals")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["percent"].widget.attrs.update(
            {"class": "input-percent", "inputmode": "decimal", "step": "any"}
        )

    def percent_value(self) -> Decimal:
        return self.cleaned_data.get("percent") or Decimal(0)

    def split_mode_value(self) -> str:
        return self.cleaned_data.get("split_mode") or SplitMode.EVEN


MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class GridImportForm(forms.Form):
    file = forms.FileField(label=_("XLSX file"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("The file is larger than 5 MB."))
        return upload
