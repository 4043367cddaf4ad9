"""HTML forms. They check the shape of what was typed; the services decide what is allowed."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation, Overflow

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from targets.ids import parse_id
from targets.models import DealSource, User
from targets.periods import PeriodError, Quarter
from targets.selectors.deals import DealFilters, DealStatus, deal_filters
from targets.services import Split

MONEY = {"max_digits": 16, "decimal_places": 2}
WAN = Decimal(10_000)


def add_service_errors(
    form: forms.Form, error: ValidationError, *, aliases: dict[str, str] | None = None
) -> None:
    """Put a service's ValidationError on the form: on the field it names, else on top."""
    aliases = aliases or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, messages in error.message_dict.items():
        field = aliases.get(name, name)
        form.add_error(field if field in form.fields else None, messages)


# Deals -------------------------------------------------------------------------------


class DealFilterForm(forms.Form):
    """The deals list's query string; a malformed value is a bad request."""

    period = forms.CharField(required=False)
    source = forms.ChoiceField(choices=[("", ""), *DealSource.choices], required=False)
    status = forms.ChoiceField(
        choices=[
            ("", ""),
            *((s, s) for s in (DealStatus.WON, DealStatus.OPEN, DealStatus.AWAITING)),
        ],
        required=False,
    )
    # Older links say won=yes / won=no for the won and open statuses.
    won = forms.ChoiceField(choices=[("", ""), ("yes", ""), ("no", "")], required=False)
    awaiting = forms.BooleanField(required=False)
    q = forms.CharField(required=False, max_length=200)
    rep = forms.CharField(required=False)
    team = forms.CharField(required=False)

    def clean_period(self) -> Quarter | None:
        label = self.cleaned_data["period"].strip()
        if not label:
            return None
        try:
            return Quarter.parse(label)
        except PeriodError as error:
            raise ValidationError(str(error)) from None

    def _id(self, name: str) -> int | None:
        raw = self.cleaned_data[name].strip()
        if not raw:
            return None
        value = parse_id(raw)
        if value is None:
            raise ValidationError(_("'%(value)s' is not an id.") % {"value": raw[:40]})
        return value

    def clean_rep(self) -> int | None:
        return self._id("rep")

    def clean_team(self) -> int | None:
        return self._id("team")

    def filters(self, *, user: User) -> DealFilters:
        """The filters; a rep or team the user may not see is not found (404)."""
        data = self.cleaned_data
        status = data["status"] or {"yes": DealStatus.WON, "no": DealStatus.OPEN}.get(
            data["won"], ""
        )
        return deal_filters(
            user=user,
            period=data["period"],
            source=data["source"],
            status=status,
            awaiting=data["awaiting"],
            q=data["q"].strip(),
            rep_id=data["rep"],
            team_id=data["team"],
        )


class RepChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj} · {obj.team}" if obj.team_id else str(obj)


class ManualDealForm(forms.Form):
    account = forms.CharField(label=_("Customer account"), max_length=200)
    owner = RepChoiceField(label=_("Owner"), queryset=User.objects.none(), empty_label=None)
    amount = forms.DecimalField(label=_("Amount (CNY)"), min_value=Decimal(0), **MONEY)
    close_date = forms.DateField(
        label=_("Close date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    won = forms.BooleanField(label=_("Won"), required=False, initial=True)
    stage = forms.CharField(label=_("Stage"), max_length=60, required=False)
    second_rep = RepChoiceField(
        label=_("Shared with"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Not shared"),
    )
    second_share = forms.DecimalField(
        label=_("Their share (%)"),
        required=False,
        max_digits=5,
        decimal_places=2,
        help_text=_("The owner keeps the rest."),
    )

    def __init__(self, *args, owners: QuerySet[User], colleagues: QuerySet[User], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        if "owner" not in self.initial:
            # Someone entering for others picks the rep; no rep is preselected by accident.
            self.fields["owner"].empty_label = _("Choose a rep")
        self.fields["second_rep"].queryset = colleagues

    def clean(self):
        data = super().clean()
        rep, share = data.get("second_rep"), data.get("second_share")
        if rep is not None and share is None and "second_share" not in self.errors:
            self.add_error("second_share", _("Give the second rep's share."))
        if rep is None and share is not None:
            self.add_error("second_rep", _("Choose whom the deal is shared with."))
        if rep is not None and rep == data.get("owner"):
            self.add_error("second_rep", _("Choose another rep than the owner."))
        if share is not None and not Decimal(0) < share < Decimal(100):
            self.add_error("second_share", _("Give a share above 0 and below 100 percent."))
        return data

    def splits(self) -> list[Split] | None:
        """The credit splits, or None for the default (100 % to the owner)."""
        data = self.cleaned_data
        if data.get("second_rep") is None:
            return None
        share = data["second_share"]
        return [
            Split(user=data["owner"], percent=Decimal(100) - share),
            Split(user=data["second_rep"], percent=share),
        ]


# Targets -----------------------------------------------------------------------------


class AmountField(forms.DecimalField):
    """An amount as people type it: "1,500,000", "1 500 000" or "150万"."""

    def to_python(self, value):
        if isinstance(value, str):
            text = value.strip().replace(",", "").replace("，", "").replace(" ", "")
            if text.endswith("万"):
                try:
                    value = str(Decimal(text[:-1]) * WAN)
                except (InvalidOperation, Overflow):
                    # "1e999999万" overflows; left as typed, the field rejects it as a number.
                    value = text
            else:
                value = text
        return super().to_python(value)


def amount_text(amount: Decimal | None) -> str:
    """How a stored amount fills an input: whole numbers without cents, grouped."""
    if amount is None:
        return ""
    if amount == amount.to_integral_value():
        return f"{amount:,.0f}"
    return f"{amount:,.2f}"


class AllocationRowForm(forms.Form):
    """One child's Base and Stretch; both empty means "no target" for a child without one."""

    base = AmountField(label=_("Base"), required=False, widget=forms.TextInput, **MONEY)
    stretch = AmountField(label=_("Stretch"), required=False, widget=forms.TextInput, **MONEY)

    def __init__(self, *args, name: str, has_target: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_target = has_target
        for field_name, label in (("base", _("Base")), ("stretch", _("Stretch"))):
            field = self.fields[field_name]
            field.required = has_target
            field.widget.attrs.update(
                {
                    "class": "input-amount",
                    "inputmode": "decimal",
                    "autocomplete": "off",
                    "aria-label": f"{name} · {label}",
                }
            )

    def clean(self):
        data = super().clean()
        base, stretch = data.get("base"), data.get("stretch")
        if not self.has_target and (base is None) != (stretch is None) and not self.errors:
            missing = "stretch" if stretch is None else "base"
            self.add_error(missing, _("Give both Base and Stretch, or leave both empty."))
        return data

    def amounts(self) -> tuple[Decimal, Decimal] | None:
        base, stretch = self.cleaned_data.get("base"), self.cleaned_data.get("stretch")
        if base is None or stretch is None:
            return None
        return base, stretch
