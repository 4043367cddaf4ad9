"""Admin for non-developers: filters, search and inlines; writes go through services."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from targets import services
from targets.models import (
    Credit,
    Deal,
    DealRemoval,
    OrgUnit,
    RoleAssignment,
    Target,
    TargetRevision,
    User,
)
from targets.periods import PeriodError, Quarter


class ChildUnitInline(admin.TabularInline):
    model = OrgUnit
    fk_name = "parent"
    fields = ["name", "kind"]
    extra = 0
    show_change_link = True
    verbose_name_plural = _("sub-units")


class MemberInline(admin.TabularInline):
    model = User
    fk_name = "team"
    fields = ["username", "display_name", "email", "is_active"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("members")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "parent"]
    list_filter = ["kind", "parent"]
    search_fields = ["name"]
    inlines = [ChildUnitInline, MemberInline]
    autocomplete_fields = ["parent"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.org_tree_rebuild()

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        services.org_tree_rebuild()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.org_tree_rebuild()


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["unit"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "team", "email", "is_active"]
    list_filter = ["is_active", "role_assignments__role", "team"]
    search_fields = ["username", "display_name", "email"]
    autocomplete_fields = ["team"]
    inlines = [RoleAssignmentInline]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Profile"), {"fields": ("display_name", "email", "team", "language")}),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )


class RevisionInline(admin.TabularInline):
    model = TargetRevision
    fk_name = "target"
    extra = 0
    can_delete = False
    readonly_fields = [
        "base_before",
        "stretch_before",
        "base_after",
        "stretch_after",
        "reason",
        "decided_by",
        "decided_at",
    ]

    def has_add_permission(self, request, obj=None):
        return False


class TargetAdminForm(forms.ModelForm):
    """Refuses what `services.target_set_derived` cannot work from, as readable form errors."""

    def clean(self):
        cleaned = super().clean()
        period = cleaned.get("period")
        if period:
            try:
                Quarter.parse(period)
            except PeriodError:
                self.add_error(
                    "period", _("'%(value)s' is not a quarter like 2025Q2.") % {"value": period}
                )
        owner_unit, owner_user = cleaned.get("owner_unit"), cleaned.get("owner_user")
        if (owner_unit is None) == (owner_user is None):
            self.add_error("owner_unit", _("Set exactly one owner: a unit or a rep."))
        elif owner_user is not None and owner_user.team_id is None:
            self.add_error("owner_user", _("This user belongs to no team."))
        return cleaned


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    form = TargetAdminForm
    list_display = ["__str__", "period", "measure", "base", "stretch", "original_base"]
    list_filter = ["period", "measure", "owner_unit__kind"]
    search_fields = ["owner_unit__name", "owner_user__username", "owner_user__display_name"]
    autocomplete_fields = ["owner_unit", "owner_user"]
    readonly_fields = ["original_base", "original_stretch", "period_start", "period_end"]
    inlines = [RevisionInline]

    def get_readonly_fields(self, request, obj=None):
        # Once the period runs, amounts change only through an approved adjustment.
        if obj is not None and obj.is_locked(timezone.localdate()):
            return [
                *self.readonly_fields,
                "period",
                "owner_unit",
                "owner_user",
                "base",
                "stretch",
                "weight_m1",
                "weight_m2",
                "weight_m3",
            ]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        services.target_set_derived(target=obj)
        if not change:
            obj.original_base, obj.original_stretch = obj.base, obj.stretch
        super().save_model(request, obj, form, change)


class CreditFormSet(BaseInlineFormSet):
    """Splits are written by `deal_save_credits`, which also derives each credited amount."""

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
        splits = self.splits()
        if splits and sum(s.percent for s in splits) != 100:
            raise forms.ValidationError(_("The shares must sum to 100 percent."))

    def save(self, commit=True):
        self.new_objects, self.changed_objects, self.deleted_objects = [], [], []
        return []


class CreditInline(admin.TabularInline):
    model = Credit
    formset = CreditFormSet
    extra = 0
    fields = ["user", "percent", "amount_cents", "counts"]
    readonly_fields = ["amount_cents", "counts"]
    autocomplete_fields = ["user"]
    verbose_name_plural = _("credit splits (empty: 100 % to the owner)")


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    list_display = [
        "account",
        "source",
        "external_id",
        "owner",
        "amount",
        "won",
        "close_date",
        "confirmed",
    ]
    list_filter = ["source", "won", "close_date", "stage"]
    search_fields = ["account", "external_id", "owner__username", "owner__display_name"]
    date_hierarchy = "close_date"
    autocomplete_fields = ["owner"]
    readonly_fields = ["created_by", "confirmed_by", "confirmed_at", "created_at", "updated_at"]
    inlines = [CreditInline]

    @admin.display(boolean=True, description=_("confirmed"))
    def confirmed(self, obj: Deal) -> bool:
        return obj.confirmed

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        credit_formset = next(f for f in formsets if isinstance(f, CreditFormSet))
        services.deal_save_credits(deal=form.instance, splits=credit_formset.splits() or None)


@admin.register(TargetRevision)
class TargetRevisionAdmin(admin.ModelAdmin):
    list_display = ["target", "base_before", "base_after", "decided_by", "decided_at"]
    list_filter = ["decided_at"]
    search_fields = ["target__owner_unit__name", "target__owner_user__username", "reason"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DealRemoval)
class DealRemovalAdmin(admin.ModelAdmin):
    list_display = ["account", "source", "external_id", "amount", "reason", "removed_at"]
    list_filter = ["source", "removed_at"]
    search_fields = ["account", "external_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
