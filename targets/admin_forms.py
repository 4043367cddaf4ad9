"""Admin forms: they ask the services what they would refuse, so a bad entry is a form error.

The admin saves through the services afterwards (`targets/admin.py`); these forms only
validate, with the services' own checks where the services offer one.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from targets import services
from targets.models import Deal, OrgUnit, Role, RoleAssignment, Target, User
from targets.periods import PeriodError, Quarter

WEIGHTS = ("weight_m1", "weight_m2", "weight_m3")


def add_service_errors(form: forms.BaseForm, error: ValidationError, fields=None) -> None:
    """Put a service's ValidationError on the form's fields it names, the rest on the form."""
    fields = fields or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.message_dict.items():
        name = fields.get(name, name)
        form.add_error(name if name in form.fields else None, errors)


class OrgUnitAdminForm(forms.ModelForm):
    class Meta:
        model = OrgUnit
        fields = ["name", "kind", "parent", "status_red_below", "status_green_above"]

    def clean(self):
        cleaned = super().clean()
        unit = self.instance if self.instance.pk else None
        try:
            services.org_unit_check_parent(unit=unit, parent=cleaned.get("parent"))
        except ValidationError as error:
            add_service_errors(self, error)
        return cleaned


class TargetAdminForm(forms.ModelForm):
    """Refuses what `services.target_create` / `target_update` would, as readable form errors."""

    # The version the admin read: a write in between makes this form stale (SPEC §10).
    read_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Target
        fields = [
            "period",
            "measure",
            "owner_unit",
            "owner_user",
            "base",
            "stretch",
            *WEIGHTS,
            "base_bonus",
            "stretch_bonus",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["read_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            self._clean_new(cleaned)
        elif cleaned.get("read_version") not in (None, self.instance.version):
            self.add_error(
                None,
                _(
                    "Someone else changed this target meanwhile (version %(current)s, you sent "
                    "%(sent)s). Reload it and apply your change again."
                )
                % {"current": self.instance.version, "sent": cleaned["read_version"]},
            )
        self._clean_amounts(cleaned)
        return cleaned

    def _clean_new(self, cleaned) -> None:
        period = cleaned.get("period")
        if period:
            try:
                cleaned["period"] = Quarter.parse(period).label
            except PeriodError:
                self.add_error(
                    "period", _("'%(value)s' is not a quarter like 2025Q2.") % {"value": period}
                )
        owner_unit, owner_user = cleaned.get("owner_unit"), cleaned.get("owner_user")
        if (owner_unit is None) == (owner_user is None):
            self.add_error("owner_unit", _("Set exactly one owner: a unit or a rep."))
        elif owner_user is not None and owner_user.team_id is None:
            self.add_error("owner_user", _("This user belongs to no team."))
        elif cleaned.get("period") and cleaned.get("measure"):
            duplicate = Target.objects.filter(
                period=cleaned["period"],
                measure=cleaned["measure"],
                owner_unit=owner_unit,
                owner_user=owner_user,
            )
            if duplicate.exists():
                self.add_error(
                    "period", _("This owner already has a target for this period and measure.")
                )

    def _clean_amounts(self, cleaned) -> None:
        base, stretch = cleaned.get("base"), cleaned.get("stretch")
        if "base" in self.fields and base is not None and base < 0:
            self.add_error("base", _("Base cannot be negative."))
        elif base is not None and stretch is not None and stretch < base:
            self.add_error("stretch", _("Stretch must be at least Base."))
        for name in ("base_bonus", "stretch_bonus"):
            if (cleaned.get(name) or 0) < 0:
                self.add_error(name, _("A bonus cannot be negative."))
        if all(name in self.fields for name in WEIGHTS):
            weights = [cleaned.get(name) for name in WEIGHTS]
            if any(w is not None for w in weights):
                if any(w is None for w in weights):
                    self.add_error("weight_m1", _("Give all three monthly weights, or none."))
                    return
                try:
                    services.parse_phasing(weights)
                except ValidationError as error:
                    add_service_errors(self, error, {"phasing": "weight_m1"})

    def phasing(self) -> list[Decimal] | None:
        weights = [self.cleaned_data.get(name) for name in WEIGHTS]
        return None if weights[0] is None else weights


class DealAddForm(forms.ModelForm):
    """A deal the administrator types in: always manual, so it waits for confirmation."""

    class Meta:
        model = Deal
        fields = ["account", "owner", "amount", "won", "close_date", "stage", "external_id"]
        help_texts = {"external_id": _("Empty: one is generated.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["external_id"].required = False
        self.fields["won"].initial = True
        # The splits inline validates the deal and its splits together (CreditFormSet).
        self.instance.admin_form = self


class CreditFormSet(BaseInlineFormSet):
    """The splits of a deal being added; the whole entry is checked by the service here,
    where both the deal's fields and its splits are known.
    """

    @property
    def deal_form(self) -> forms.BaseForm | None:
        return getattr(self.instance, "admin_form", None)

    def splits(self) -> list[services.Split]:
        return [
            services.Split(user=form.cleaned_data["user"], percent=form.cleaned_data["percent"])
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("user")
        ]

    def clean(self):
        super().clean()
        if self.deal_form is None or self.deal_form.errors or any(self.errors):
            return
        deal = self.deal_form.cleaned_data
        try:
            services.deal_check_manual(
                account=deal["account"],
                owner=deal["owner"],
                amount=deal["amount"],
                close_date=deal["close_date"],
                won=deal["won"],
                external_id=deal.get("external_id") or "",
                splits=self.splits() or None,
            )
        except ValidationError as error:
            on_deal = {k: v for k, v in error.message_dict.items() if k in self.deal_form.fields}
            if on_deal:
                add_service_errors(self.deal_form, ValidationError(on_deal))
            rest = [m for k, v in error.message_dict.items() if k not in on_deal for m in v]
            raise ValidationError(rest or _("Correct the deal's fields above.")) from None


class UserAdminChangeForm(UserChangeForm):
    team_since = forms.DateField(
        label=_("In this team since"),
        required=False,
        initial=timezone.localdate,
        help_text=_(
            "When the team changes: the day the new team applies from. Deals closed from "
            "that day on count for the new team; earlier ones stay with the old one."
        ),
    )

    class Meta(UserChangeForm.Meta):
        model = User

    def clean_team_since(self):
        since = self.cleaned_data.get("team_since")
        if since and since > timezone.localdate():
            raise ValidationError(_("A team change cannot start after today."))
        return since

    def team_since_given(self):
        if "team" in self.changed_data or "team_since" in self.changed_data:
            return self.cleaned_data.get("team_since") or timezone.localdate()
        return None


class RoleAssignmentForm(forms.ModelForm):
    class Meta:
        model = RoleAssignment
        fields = ["role", "unit"]

    def clean(self):
        cleaned = super().clean()
        role = cleaned.get("role")
        if role and role != Role.ADMIN and cleaned.get("unit") is None:
            self.add_error(
                "unit",
                _("The role '%(role)s' needs the unit it applies to.") % {"role": Role(role).label},
            )
        return cleaned


class RoleAssignmentFormSet(BaseInlineFormSet):
    def grants(self) -> list[services.RoleGrant]:
        return [
            services.RoleGrant(role=form.cleaned_data["role"], unit=form.cleaned_data.get("unit"))
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("role")
        ]
