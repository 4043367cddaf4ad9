"""Admin for non-developers: filters, search and inlines; every write goes through a service.

Forms (`targets/admin_forms.py`) ask the services what they would refuse, so a bad entry is
a form error; saves and deletions then call the same services the pages and the API call.
What only sync, imports or sales authorities may write is read-only here (SPEC §2, §4).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from targets import services
from targets.admin_forms import (
    WEIGHTS,
    CreditFormSet,
    DealAddForm,
    OrgUnitAdminForm,
    RoleAssignmentForm,
    RoleAssignmentFormSet,
    TargetAdminForm,
    UserAdminChangeForm,
)
from targets.admin_readonly import ReadOnlyAdmin
from targets.errors import StateConflict
from targets.models import (
    Credit,
    Deal,
    DealRemoval,
    OrgUnit,
    RoleAssignment,
    Target,
    TargetRevision,
    TeamMembership,
    User,
)


def _adopt(obj, saved) -> None:
    """Make the admin's unsaved instance the row a service wrote, for logging and redirects."""
    obj.pk = saved.pk
    obj._state.adding = False
    obj.refresh_from_db()


def _saved_by_service(*formsets) -> None:
    """The admin's change message reads what a formset saved; a service saved it instead."""
    for formset in formsets:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


class RefusalsAsMessages:
    """A service refusing a deletion (StateConflict) is an error message, not a 500.

    Django's delete views run in a transaction; the refusal rolls back what came before it
    (the log entry) and the admin goes back to where it was.
    """

    def delete_view(self, request, object_id, extra_context=None):
        try:
            with transaction.atomic():
                return super().delete_view(request, object_id, extra_context)
        except StateConflict as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
            opts = self.model._meta
            return redirect(f"admin:{opts.app_label}_{opts.model_name}_change", object_id)

    def changelist_view(self, request, extra_context=None):
        # The bulk "delete selected" action runs from here.
        try:
            with transaction.atomic():
                return super().changelist_view(request, extra_context)
        except StateConflict as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
            return redirect(request.get_full_path())


# Organisation ------------------------------------------------------------------------


class ChildUnitInline(admin.TabularInline):
    model = OrgUnit
    fk_name = "parent"
    fields = ["name", "kind"]
    extra = 0
    can_delete = False  # a unit is deleted from its own page, through the service
    show_change_link = True
    verbose_name_plural = gettext_lazy("sub-units")


class MemberInline(admin.TabularInline):
    model = User
    fk_name = "team"
    fields = ["username", "display_name", "email", "is_active"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = gettext_lazy("members")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OrgUnit)
class OrgUnitAdmin(RefusalsAsMessages, admin.ModelAdmin):
    form = OrgUnitAdminForm
    list_display = ["name", "kind", "parent"]
    list_filter = ["kind", "parent"]
    search_fields = ["name"]
    inlines = [ChildUnitInline, MemberInline]
    autocomplete_fields = ["parent"]

    def save_model(self, request, obj, form, change):
        services.org_unit_save(unit=obj, name=obj.name, kind=obj.kind, parent=obj.parent)

    def save_formset(self, request, form, formset, change):
        if formset.model is not OrgUnit:
            # Members are read-only here; a user's team changes on the user's page.
            _saved_by_service(formset)
            return
        for child in formset.save(commit=False):
            services.org_unit_save(
                unit=child, name=child.name, kind=child.kind, parent=form.instance
            )

    def delete_model(self, request, obj):
        services.org_unit_delete(unit=obj)

    def delete_queryset(self, request, queryset):
        # Django's confirmation already refused units with sub-units, members or targets.
        for unit in queryset:
            services.org_unit_delete(unit=unit)


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    form = RoleAssignmentForm
    formset = RoleAssignmentFormSet
    extra = 0
    autocomplete_fields = ["unit"]


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    fk_name = "user"
    fields = ["team", "valid_from", "valid_to"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = gettext_lazy("team history")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserAdminChangeForm
    list_display = ["username", "display_name", "team", "email", "is_active"]
    list_filter = ["is_active", "role_assignments__role", "team"]
    search_fields = ["username", "display_name", "email"]
    autocomplete_fields = ["team"]
    inlines = [RoleAssignmentInline, TeamMembershipInline]
    readonly_fields = ["is_staff", "is_superuser", "last_login", "date_joined"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            gettext_lazy("Profile"),
            {
                "fields": (
                    "display_name",
                    "email",
                    "team",
                    "team_since",
                    "language",
                    "dingtalk_userid",
                )
            },
        ),
        (
            gettext_lazy("Access"),
            {
                "fields": ("is_active", "is_staff", "is_superuser"),
                "description": gettext_lazy(
                    "Staff and superuser follow the administrator role below."
                ),
            },
        ),
        (gettext_lazy("Dates"), {"fields": ("last_login", "date_joined")}),
    )

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            return  # saved with its roles in save_related, in one call of the service
        user = services.user_save(
            username=obj.username, password=form.cleaned_data.get("password1") or None
        )
        _adopt(obj, user)

    def save_related(self, request, form, formsets, change):
        _saved_by_service(*formsets)
        if not change:
            return
        roles = next(f for f in formsets if isinstance(f, RoleAssignmentFormSet))
        obj = form.instance
        team = obj.team
        obj.team_id = form.initial.get("team")  # the service compares with the current team
        services.user_save(
            user=obj,
            username=obj.username,
            display_name=obj.display_name,
            email=obj.email,
            team=team,
            team_since=form.team_since_given(),
            language=obj.language,
            is_active=obj.is_active,
            roles=roles.grants(),
            dingtalk_userid=obj.dingtalk_userid,
        )

    def get_deleted_objects(self, objs, request):
        # What the user owns is never deleted with them: they are deactivated instead.
        deleted, counts, perms_needed, _protected = super().get_deleted_objects(objs, request)
        return deleted, counts, perms_needed, []

    def delete_model(self, request, obj):
        if not services.user_delete(user=obj):
            request._deactivated = [obj]

    def delete_queryset(self, request, queryset):
        kept = [user for user in queryset if not services.user_delete(user=user)]
        if kept:
            request._deactivated = kept

    def response_delete(self, request, obj_display, obj_id):
        if getattr(request, "_deactivated", None):
            self._tell_deactivated(request)
            return redirect("admin:targets_user_change", obj_id)
        return super().response_delete(request, obj_display, obj_id)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if getattr(request, "_deactivated", None):
            self._tell_deactivated(request)
        return response

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        if level == messages.SUCCESS and getattr(request, "_deactivated", None):
            return  # "deleted N users" would count the ones kept; _tell_deactivated says it
        super().message_user(request, message, level, *args, **kwargs)

    def _tell_deactivated(self, request) -> None:
        names = ", ".join(str(user) for user in request._deactivated)
        self.message_user(
            request,
            _(
                "%(names)s: deals, targets or decisions are on record, so the account was "
                "deactivated instead of deleted."
            )
            % {"names": names},
            messages.WARNING,
        )


# Targets -----------------------------------------------------------------------------


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

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Target)
class TargetAdmin(RefusalsAsMessages, admin.ModelAdmin):
    form = TargetAdminForm
    list_display = ["__str__", "period", "measure", "base", "stretch", "original_base", "version"]
    list_filter = ["period", "measure", "owner_unit__kind"]
    search_fields = ["owner_unit__name", "owner_user__username", "owner_user__display_name"]
    autocomplete_fields = ["owner_unit", "owner_user"]
    readonly_fields = [
        "original_base",
        "original_stretch",
        "period_start",
        "period_end",
        "version",
    ]
    inlines = [RevisionInline]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # Owner, period and measure make the target what it is: another one is a new target.
        fixed = [*self.readonly_fields, "period", "measure", "owner_unit", "owner_user"]
        if obj.is_locked(timezone.localdate()):
            # Once the period runs, amounts change only through an approved adjustment.
            return [*fixed, "base", "stretch", *WEIGHTS]
        return fixed

    def get_fieldsets(self, request, obj=None):
        amounts = {"fields": ["base", "stretch", *WEIGHTS, "base_bonus", "stretch_bonus"]}
        if obj is not None and obj.is_locked(timezone.localdate()):
            amounts["description"] = _(
                "The period has started: amounts change only through an approved adjustment."
            )
        record = ["original_base", "original_stretch", "period_start", "period_end"]
        if obj is not None:
            record.append("version")
        return [
            (None, {"fields": ["period", "measure", "owner_unit", "owner_user"]}),
            (_("Amounts"), amounts),
            (_("Record"), {"fields": [*record, "read_version"]}),
        ]

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_locked(timezone.localdate()):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            target = services.target_create(
                period=data["period"],
                measure=data["measure"],
                owner_unit=data.get("owner_unit"),
                owner_user=data.get("owner_user"),
                base=data["base"],
                stretch=data["stretch"],
                phasing=form.phasing(),
                base_bonus=data.get("base_bonus"),
                stretch_bonus=data.get("stretch_bonus"),
                created_by=request.user,
            )
            _adopt(obj, target)
            return
        changes = {
            "base_bonus": data.get("base_bonus"),
            "stretch_bonus": data.get("stretch_bonus"),
        }
        if "base" in form.fields:
            changes.update(base=data["base"], stretch=data["stretch"], phasing=form.phasing())
        services.target_update(target=obj, expected_version=data.get("read_version"), **changes)
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.target_delete(target=obj)

    def delete_queryset(self, request, queryset):
        for target in queryset:
            services.target_delete(target=target)


@admin.register(TargetRevision)
class TargetRevisionAdmin(ReadOnlyAdmin):
    list_display = ["target", "base_before", "base_after", "decided_by", "decided_at"]
    list_filter = ["decided_at"]
    search_fields = ["target__owner_unit__name", "target__owner_user__username", "reason"]


# Deals -------------------------------------------------------------------------------


class CreditInline(admin.TabularInline):
    model = Credit
    formset = CreditFormSet
    extra = 0
    fields = ["user", "percent", "amount_cents", "counts"]
    readonly_fields = ["amount_cents", "counts"]
    autocomplete_fields = ["user"]
    verbose_name_plural = gettext_lazy("credit splits (empty: 100 % to the owner)")

    # Splits are given with a new manual deal; afterwards they are the record.
    def has_add_permission(self, request, obj=None):
        return obj is None

    def has_change_permission(self, request, obj=None):
        return obj is None

    def has_delete_permission(self, request, obj=None):
        return obj is None


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    """Deals as the record: added by hand only as manual entries, never edited here.

    Synced and imported deals belong to their source; a manual deal is insert-only and
    counts once a sales manager confirms it, which the administrator is not (SPEC §2, §4).
    A wrong entry is deleted (with a reason, kept as a removal) and entered again.
    """

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
    inlines = [CreditInline]

    @admin.display(boolean=True, description=gettext_lazy("confirmed"))
    def confirmed(self, obj: Deal) -> bool:
        return obj.confirmed

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = DealAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return DealAddForm._meta.fields
        return [
            "source",
            "external_id",
            "account",
            "owner",
            "amount",
            "won",
            "close_date",
            "stage",
            "source_modified_at",
            "created_by",
            "confirmed_by",
            "confirmed_at",
            "created_at",
            "updated_at",
        ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        note = _(
            "A synced or imported deal changes only at its source, and a manual entry stays as "
            "it was entered. To correct one, delete it with a reason and enter it again."
        )
        return [(None, {**fieldsets[0][1], "description": note})]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def save_model(self, request, obj, form, change):
        pass  # created with its splits in save_related, in one call of the service

    def save_related(self, request, form, formsets, change):
        _saved_by_service(*formsets)
        credits = next(f for f in formsets if isinstance(f, CreditFormSet))
        data = form.cleaned_data
        deal = services.deal_create_manual(
            author=request.user,
            account=data["account"],
            owner=data["owner"],
            amount=data["amount"],
            close_date=data["close_date"],
            won=data["won"],
            stage=data.get("stage") or "",
            external_id=data.get("external_id") or "",
            splits=credits.splits() or None,
        )
        _adopt(form.instance, deal)

    def _reason(self, request) -> str:
        given = request.POST.get("reason", "").strip()
        return (given or _("Deleted in the administration."))[:200]

    def delete_model(self, request, obj):
        services.deal_remove(deal=obj, reason=self._reason(request), removed_by=request.user)

    def delete_queryset(self, request, queryset):
        reason = self._reason(request)
        for deal in queryset:
            services.deal_remove(deal=deal, reason=reason, removed_by=request.user)


@admin.register(DealRemoval)
class DealRemovalAdmin(ReadOnlyAdmin):
    list_display = [
        "account",
        "source",
        "external_id",
        "amount",
        "reason",
        "removed_by",
        "removed_at",
    ]
    list_filter = ["source", "removed_at"]
    search_fields = ["account", "external_id"]


# Process metrics have pages of their own; the admin lists them (targets/admin_metrics.py).
from targets import admin_metrics  # noqa: E402, F401
