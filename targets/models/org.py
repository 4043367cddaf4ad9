from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    COMPANY = "company", _("Company")
    REGION = "region", _("Region")
    TEAM = "team", _("Team")


class OrgUnit(models.Model):
    """A node of the organisation tree: company → region → team (depth is free)."""

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Status thresholds are a company setting (SPEC §5); only read on the tree's root.
    status_red_below = models.DecimalField(
        _("red below (%)"), max_digits=5, decimal_places=1, default=60
    )
    status_green_above = models.DecimalField(
        _("green above (%)"), max_digits=5, decimal_places=1, default=80
    )

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="unit_name_unique_among_siblings"
            ),
            models.CheckConstraint(
                condition=models.Q(status_red_below__lte=models.F("status_green_above")),
                name="unit_red_threshold_not_above_green",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OrgUnitClosure(models.Model):
    """Every (ancestor, descendant) pair of the tree, a unit being its own ancestor at depth 0.

    Roll-ups and scoped permissions join through it, so subtree questions are one SQL join
    instead of a recursive walk. Rebuilt by `org_tree_rebuild` after any tree change.
    """

    ancestor = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    descendant = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    depth = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ancestor", "descendant"], name="closure_pair_unique")
        ]
        indexes = [models.Index(fields=["descendant", "ancestor"])]

    def __str__(self) -> str:
        return f"{self.ancestor_id} → {self.descendant_id} ({self.depth})"


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    SALES_DIRECTOR = "sales_director", _("Sales director")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    HRBP = "hrbp", _("HRBP")
    FINANCE = "finance", _("Finance")
    REP = "rep", _("Sales rep")


class User(AbstractUser):
    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    team = models.ForeignKey(
        OrgUnit,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=[("zh-hans", "简体中文"), ("en", "English")],
        help_text=_("Empty: follow the browser."),
    )
    # Who the person is in DingTalk: approvals they decide there and notices sent to them
    # are matched through it.
    dingtalk_userid = models.CharField(_("DingTalk user id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(
                fields=["dingtalk_userid"],
                condition=~models.Q(dingtalk_userid=""),
                name="user_dingtalk_userid_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username


class RoleAssignment(models.Model):
    """A role held by a user; every role but admin covers its unit's whole subtree."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "unit"], name="role_assignment_unique"),
            # Every role but admin applies to a unit's subtree (SPEC §2).
            models.CheckConstraint(
                condition=models.Q(role="admin") | models.Q(unit__isnull=False),
                name="scoped_role_has_unit",
            ),
        ]

    def __str__(self) -> str:
        if self.unit_id:
            return f"{self.get_role_display()} @ {self.unit}"
        return str(self.get_role_display())


class TeamMembership(models.Model):
    """A rep's team over a span of dates (SPEC §2): moving a rep keeps the history.

    `User.team` is the current team; this is the record figures and credits follow, so a
    credit counts for the team the rep belonged to on the deal's close date.
    """

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(
        OrgUnit, verbose_name=_("team"), on_delete=models.PROTECT, related_name="memberships"
    )
    valid_from = models.DateField(_("from"))
    # The last day in the team; open-ended while it is the current team.
    valid_to = models.DateField(_("to"), null=True, blank=True)

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        ordering = ["user", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(valid_to__isnull=True),
                name="one_current_team_per_user",
            ),
            models.UniqueConstraint(fields=["user", "valid_from"], name="membership_start_unique"),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="membership_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.team} ({self.valid_from} – {self.valid_to or ''})"


def team_on(*, user: OuterRef, day: OuterRef) -> Subquery:
    """The team `user` belonged to on `day`, as a subquery (both refer to the outer row).

    The earliest membership not ended before that day: the one covering it, or for a day
    before the user's first membership, that first team (history imported with the rep).
    """
    return Subquery(
        TeamMembership.objects.filter(user=user)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .order_by("valid_from")
        .values("team")[:1]
    )


def team_on_sql(*, user: str, day: str) -> str:
    """`team_on` as SQL text, for a raw statement whose rows are not a model's (the bulk
    write's one-statement upsert): `user` and `day` are column expressions. The same rule;
    tests/targets/test_team_on.py holds the two to the same answers."""
    table = TeamMembership._meta.db_table
    return (
        f"(SELECT membership.team_id FROM {table} membership "
        f"WHERE membership.user_id = {user} "
        f"AND (membership.valid_to IS NULL OR membership.valid_to >= {day}) "
        "ORDER BY membership.valid_from LIMIT 1)"
    )
