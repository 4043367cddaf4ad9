"""Shapes of API v1 (SPEC §10). Serializers validate shape; services decide."""

from __future__ import annotations

from datetime import date
from decimal import MAX_PREC, Context, Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from targets.metric_figures import metric_code
from targets.models import (
    Deal,
    DealSource,
    Measure,
    Metric,
    OrgUnit,
    Role,
    Target,
    TargetRevision,
    User,
)
from targets.models.targets import validate_measure as measure_check
from targets.periods import PeriodError, Quarter

STATUS_CHOICES = [("red", "red"), ("yellow", "yellow"), ("green", "green")]
GRAIN_VALUES = ["week", "month"]
ONE_DECIMAL = Decimal("0.1")
# Team history reaches back at most this far (a move ends the previous team the day before).
TEAM_SINCE_MIN = date(1900, 1, 1)
CENT = Decimal("0.01")
QUARTER_PATTERN = r"^\d{4}Q[1-4]$"
# Rounding to one decimal needs room for every whole digit: a pace against a tiny expected
# amount can pass the default 28 digits, where quantize() raises instead of rounding.
WIDE = Context(prec=MAX_PREC)


def _pct(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(ONE_DECIMAL, context=WIDE))


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT))


class MoneyField(serializers.DecimalField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 16)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)


# drf-spectacular's decimal pattern also admits "", "-" and negatives; say what is accepted.
@extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^\d{1,13}(\.\d{1,2})?$"})
class MoneyInputField(MoneyField):
    """An amount written through the API: at most 15 digits, up to 9,999,999,999,999.99.

    SQLite keeps decimals as doubles, which hold 15 significant digits exactly: a 16-digit
    amount came back rounded, and one near the column's maximum could not be read back at all,
    breaking every list that included it.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 15)
        kwargs.setdefault("min_value", Decimal(0))
        super().__init__(**kwargs)


# Organisation ------------------------------------------------------------------------


class RoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
    unit = serializers.PrimaryKeyRelatedField(
        queryset=OrgUnit.objects.all(), allow_null=True, required=False, default=None
    )

    def validate(self, attrs):
        # A PATCH makes nested fields optional too, but a role without its name means nothing.
        if "role" not in attrs:
            raise serializers.ValidationError(
                {"role": [self.fields["role"].error_messages["required"]]}
            )
        if attrs["role"] != Role.ADMIN and attrs.get("unit") is None:
            raise serializers.ValidationError(
                {"unit": [_("Every role but admin needs the unit it applies to.")]}
            )
        return attrs


@extend_schema_serializer(component_name="AuthToken")
class AuthTokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class AuthTokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text=_("Send it as `Authorization: Token <key>` on every request.")
    )


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    email = serializers.EmailField()
    team = serializers.IntegerField(source="team_id", allow_null=True)
    language = serializers.CharField()
    roles = RoleSerializer(many=True, source="role_assignments.all")


class OrgUnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrgUnit
        fields = ["id", "name", "parent", "kind"]


class UserSerializer(serializers.ModelSerializer):
    password = serializers.CharField(
        write_only=True, required=False, allow_blank=False, style={"input_type": "password"}
    )
    team_since = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=_(
            "The day the current team applies from. Write it with `team` (default: today); "
            "deals closed before it keep counting for the previous team."
        ),
    )
    roles = RoleSerializer(many=True, source="role_assignments.all", required=False)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "password",
            "display_name",
            "email",
            "team",
            "team_since",
            "roles",
            "language",
        ]

    def validate_team_since(self, value: date | None) -> date | None:
        if value is None:
            return None
        if value > timezone.localdate():
            raise serializers.ValidationError(
                _("A team cannot apply from a day still to come: save the move on that day.")
            )
        if value < TEAM_SINCE_MIN:
            raise serializers.ValidationError(
                _("Give a day from %(day)s on.") % {"day": TEAM_SINCE_MIN.isoformat()}
            )
        return value


# Figures -----------------------------------------------------------------------------


@extend_schema_field({"type": "string", "format": "decimal", "example": "1250000.00"})
class MoneyOutField(serializers.Field):
    """A computed amount, as a decimal string with cents."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Decimal) -> str:
        return _money(value)


@extend_schema_field({"type": "string", "format": "decimal", "example": "87.5"})
class PercentField(serializers.Field):
    """A computed percentage, as a decimal string with one decimal (87.5 means 87.5 %)."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Decimal) -> str:
        return _pct(value)


class MonthFiguresSerializer(serializers.Serializer):
    month = serializers.CharField(source="month.label")
    actual = MoneyOutField()
    completion = PercentField(allow_null=True)


STATUS_CHOICES = [("red", "red"), ("yellow", "yellow"), ("green", "green")]


class FiguresSerializer(serializers.Serializer):
    """Percentages rounded to one decimal only here; every rule used the unrounded values."""

    actual = MoneyOutField()
    completion = PercentField(allow_null=True)
    pace = PercentField(allow_null=True)
    stretch_progress = PercentField(allow_null=True)
    status = serializers.ChoiceField(choices=STATUS_CHOICES, allow_null=True)
    allocation_coverage = PercentField(allow_null=True)
    incentive = MoneyOutField(allow_null=True)
    expected_base = MoneyOutField(allow_null=True)
    allocated_base = MoneyOutField(allow_null=True)
    unallocated = MoneyOutField(allow_null=True)
    monthly = MonthFiguresSerializer(many=True)


# Targets -----------------------------------------------------------------------------


@extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^\d(\.\d{1,6})?$"})
class WeightField(serializers.DecimalField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 7)
        kwargs.setdefault("decimal_places", 6)
        kwargs.setdefault("min_value", Decimal(0))
        super().__init__(**kwargs)


class PhasingField(serializers.ListField):
    child = WeightField()

    def __init__(self, **kwargs):
        kwargs.setdefault("min_length", 3)
        kwargs.setdefault("max_length", 3)
        super().__init__(**kwargs)


@extend_schema_field({"type": "string", "pattern": QUARTER_PATTERN, "example": "2025Q2"})
class QuarterField(serializers.CharField):
    """A quarter label; the schema shows its shape, the service words the error."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 6)
        super().__init__(**kwargs)


class TargetInputSerializer(serializers.Serializer):
    period = QuarterField()
    measure = serializers.CharField(
        max_length=50,
        default=Measure.REVENUE,
        help_text="`revenue`, or `metric:<code>` for a target on a process metric.",
    )
    owner_unit = serializers.PrimaryKeyRelatedField(
        queryset=OrgUnit.objects.all(), allow_null=True, required=False, default=None
    )
    owner_user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), allow_null=True, required=False, default=None
    )
    base = MoneyInputField()
    stretch = MoneyInputField()
    phasing = PhasingField(allow_null=True, required=False, default=None)
    base_bonus = MoneyInputField(allow_null=True, required=False, default=None)
    stretch_bonus = MoneyInputField(allow_null=True, required=False, default=None)

    def validate_measure(self, value: str) -> str:
        try:
            measure_check(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        code = metric_code(value)
        if code is not None and not Metric.objects.filter(code=code).exists():
            raise serializers.ValidationError(
                _("No metric has the code %(code)s.") % {"code": code}
            )
        return value

    def validate(self, attrs):
        if (attrs.get("owner_unit") is None) == (attrs.get("owner_user") is None):
            raise serializers.ValidationError(
                {"owner_unit": [_("Set exactly one owner: owner_unit or owner_user.")]}
            )
        return attrs


class TargetUpdateSerializer(serializers.Serializer):
    base = MoneyInputField(required=False)
    stretch = MoneyInputField(required=False)
    phasing = PhasingField(allow_null=True, required=False)
    base_bonus = MoneyInputField(allow_null=True, required=False)
    stretch_bonus = MoneyInputField(allow_null=True, required=False)
    version = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        source="expected_version",
        help_text=_(
            "The version you read. If the target changed since, the write is refused (409)."
        ),
    )
    # Identity of a target is fixed once created; say so rather than ignore the field.
    period = serializers.CharField(required=False)
    measure = serializers.CharField(required=False)
    owner_unit = serializers.IntegerField(required=False, allow_null=True)
    owner_user = serializers.IntegerField(required=False, allow_null=True)

    def validate(self, attrs):
        target: Target = self.context["target"]
        current = {
            "period": target.period,
            "measure": target.measure,
            "owner_unit": target.owner_unit_id,
            "owner_user": target.owner_user_id,
        }
        errors = {
            name: [_("A target's period, measure and owner cannot change.")]
            for name, value in current.items()
            if name in attrs and attrs.pop(name) != value
        }
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class TargetSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(read_only=True)
    phasing = serializers.ListField(
        child=serializers.DecimalField(max_digits=7, decimal_places=6), allow_null=True
    )
    locked = serializers.SerializerMethodField()
    figures = serializers.SerializerMethodField()

    class Meta:
        model = Target
        fields = [
            "id",
            "period",
            "measure",
            "owner_unit",
            "owner_user",
            "owner_name",
            "base",
            "stretch",
            "original_base",
            "original_stretch",
            "phasing",
            "base_bonus",
            "stretch_bonus",
            "locked",
            "version",
            "figures",
        ]

    # The views hand in today and the figures; the browsable API's forms build this
    # serializer with DRF's default context, which has neither.
    def get_locked(self, obj: Target) -> bool:
        return obj.is_locked(self.context.get("today") or timezone.localdate())

    @extend_schema_field(FiguresSerializer(allow_null=True))
    def get_figures(self, obj: Target):
        figures = self.context.get("figures", {}).get(obj.pk)
        return FiguresSerializer(figures).data if figures else None


class RevisionSerializer(serializers.ModelSerializer):
    decided_by = serializers.PrimaryKeyRelatedField(read_only=True)
    decided_by_name = serializers.CharField(source="decided_by.__str__", read_only=True)
    proposal = serializers.IntegerField(
        source="proposal_ref", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = TargetRevision
        fields = [
            "id",
            "base_before",
            "stretch_before",
            "base_after",
            "stretch_after",
            "reason",
            "decided_by",
            "decided_by_name",
            "decided_at",
            "proposal",
        ]


class TrendPointSerializer(serializers.Serializer):
    period_label = serializers.CharField()
    actual_cumulative = MoneyField()
    base_expected = MoneyField()
    stretch_expected = MoneyField()


class TrendSerializer(serializers.Serializer):
    target = serializers.IntegerField()
    grain = serializers.ChoiceField(choices=GRAIN_VALUES)
    as_of = serializers.DateField()
    points = TrendPointSerializer(many=True)


class AsOfSerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False)


class TrendQuerySerializer(AsOfSerializer):
    grain = serializers.ChoiceField(choices=GRAIN_VALUES, default="week")


# Deals -------------------------------------------------------------------------------


class SplitSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    percent = serializers.DecimalField(max_digits=5, decimal_places=2)


class DealSerializer(serializers.ModelSerializer):
    confirmed = serializers.BooleanField(read_only=True)
    manual = serializers.BooleanField(source="is_manual", read_only=True)
    splits = serializers.SerializerMethodField()

    class Meta:
        model = Deal
        fields = [
            "id",
            "source",
            "external_id",
            "account",
            "owner",
            "amount",
            "stage",
            "won",
            "close_date",
            "confirmed",
            "manual",
            "splits",
            "created_by",
            "confirmed_by",
            "confirmed_at",
            "source_modified_at",
        ]

    @extend_schema_field(SplitSerializer(many=True))
    def get_splits(self, obj: Deal):
        return [{"user": c.user_id, "percent": str(c.percent)} for c in obj.credits.all()]


class DealInputSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=[DealSource.MANUAL], default=DealSource.MANUAL)
    external_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    account = serializers.CharField(max_length=200)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    amount = MoneyInputField()
    stage = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    won = serializers.BooleanField(default=True)
    close_date = serializers.DateField()
    splits = SplitSerializer(many=True, required=False, allow_null=True, default=None)


# Dashboard ---------------------------------------------------------------------------


class DashboardQuerySerializer(AsOfSerializer):
    unit = serializers.IntegerField(required=False)
    period = serializers.RegexField(QUARTER_PATTERN, required=False)

    def validate_period(self, value: str) -> str:
        # The pattern admits years the calendar has not (0000): the quarter itself decides.
        try:
            Quarter.parse(value)
        except PeriodError as error:
            raise serializers.ValidationError(str(error)) from None
        return value


class DashboardChildSerializer(serializers.Serializer):
    unit = serializers.IntegerField(allow_null=True)
    user = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    target = serializers.IntegerField(allow_null=True)
    figures = FiguresSerializer(allow_null=True)


class VolatilitySerializer(serializers.Serializer):
    month = serializers.CharField()
    value = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)


class DashboardSummarySerializer(serializers.Serializer):
    unit = serializers.IntegerField(allow_null=True)
    user = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    period = serializers.CharField()
    as_of = serializers.DateField()
    target = serializers.IntegerField(allow_null=True)
    figures = FiguresSerializer(allow_null=True)
    children = DashboardChildSerializer(many=True)
    volatility = VolatilitySerializer(many=True)
    volatility_period = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)


# Confirming a deal: its effect --------------------------------------------------------


class CreditEffectSerializer(serializers.Serializer):
    """One credited rep: completion of the rep's target for the close date's quarter, now and
    with the deal counted (rounded to one decimal here only)."""

    rep = serializers.IntegerField(source="rep_id")
    rep_name = serializers.CharField(source="rep")
    share = serializers.DecimalField(
        max_digits=5, decimal_places=2, help_text="Percent of the deal."
    )
    credited_amount = serializers.SerializerMethodField()
    period = serializers.CharField(help_text="The quarter of the close date, e.g. 2025Q2.")
    target = serializers.IntegerField(
        allow_null=True, help_text="The rep's target for that quarter; null when there is none."
    )
    base = serializers.SerializerMethodField()
    completion_before = serializers.SerializerMethodField()
    completion_after = serializers.SerializerMethodField()
    status_before = serializers.ChoiceField(choices=STATUS_CHOICES, allow_null=True)
    status_after = serializers.ChoiceField(choices=STATUS_CHOICES, allow_null=True)
    exceeds_base = serializers.BooleanField(
        help_text="The share alone is more than the rep's quarterly Base."
    )

    @extend_schema_field({"type": "string", "format": "decimal"})
    def get_credited_amount(self, obj) -> str:
        return _money(obj.amount)

    @extend_schema_field({"type": "string", "format": "decimal", "nullable": True})
    def get_base(self, obj) -> str | None:
        return _money(obj.base)

    @extend_schema_field({"type": "string", "format": "decimal", "nullable": True})
    def get_completion_before(self, obj) -> str | None:
        return _pct(obj.completion_before)

    @extend_schema_field({"type": "string", "format": "decimal", "nullable": True})
    def get_completion_after(self, obj) -> str | None:
        return _pct(obj.completion_after)


class ConfirmPreviewSerializer(serializers.Serializer):
    deal = serializers.IntegerField(source="deal.id")
    counts = serializers.BooleanField(
        help_text="Whether confirming makes the deal count (false while it is not won)."
    )
    warnings = serializers.IntegerField(help_text="How many shares exceed the rep's Base.")
    effects = CreditEffectSerializer(many=True)
