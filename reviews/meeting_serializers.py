from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from reviews.meeting_models import (
    SCORE_CHOICES,
    AgendaItem,
    ItemDecision,
    MemberScore,
    ReviewMeeting,
)
from reviews.meeting_selectors import mean_scores
from targets.api.serializers import MoneyField, MoneyInputField
from targets.models import OrgUnit, User

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class ScoresSerializer(serializers.Serializer):
    market = serializers.DecimalField(max_digits=3, decimal_places=1, allow_null=True)
    customer = serializers.DecimalField(max_digits=3, decimal_places=1, allow_null=True)
    capacity = serializers.DecimalField(max_digits=3, decimal_places=1, allow_null=True)


class MemberScoreSerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.__str__", read_only=True)

    class Meta:
        model = MemberScore
        fields = ["user", "user_name", "market", "customer", "capacity", "notes"]
        read_only_fields = fields


class AgendaItemSerializer(serializers.ModelSerializer):
    target_name = serializers.CharField(source="target.owner_name", read_only=True)
    period = serializers.CharField(source="target.period", read_only=True)
    scores = serializers.SerializerMethodField(
        help_text=_("The members' mean per indicator group (1 decimal), null when none scored.")
    )
    member_scores = MemberScoreSerializer(source="scores", many=True, read_only=True)
    new_base = MoneyField(allow_null=True)
    new_stretch = MoneyField(allow_null=True)

    class Meta:
        model = AgendaItem
        fields = [
            "id",
            "kind",
            "target",
            "target_name",
            "period",
            "proposal",
            "case",
            "dispute",
            "position",
            "scores",
            "member_scores",
            "notes",
            "decision",
            "new_base",
            "new_stretch",
            "decided_by",
            "decided_at",
            "revision",
        ]
        read_only_fields = fields

    @extend_schema_field(ScoresSerializer)
    def get_scores(self, obj: AgendaItem) -> dict:
        return ScoresSerializer(mean_scores(list(obj.scores.all()))).data


class ReviewSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    chair_name = serializers.CharField(source="chair.__str__", read_only=True)
    members = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    agenda = AgendaItemSerializer(source="items", many=True, read_only=True)

    class Meta:
        model = ReviewMeeting
        fields = [
            "id",
            "unit",
            "unit_name",
            "month",
            "chair",
            "chair_name",
            "members",
            "state",
            "created_at",
            "closed_at",
            "agenda",
        ]
        read_only_fields = fields


class ReviewInputSerializer(serializers.Serializer):
    unit = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.none())
    month = serializers.RegexField(
        MONTH_PATTERN,
        help_text=_("A month, e.g. 2025-05."),
        error_messages={"invalid": _("Give a month like 2025-05.")},
    )
    members = serializers.PrimaryKeyRelatedField(
        many=True, queryset=User.objects.none(), required=False, default=list
    )

    def __init__(self, *args, units=None, users=None, **kwargs):
        super().__init__(*args, **kwargs)
        if units is not None:
            self.fields["unit"].queryset = units
        if users is not None:
            self.fields["members"].child_relation.queryset = users


class ReviewUpdateSerializer(serializers.Serializer):
    members = serializers.PrimaryKeyRelatedField(many=True, queryset=User.objects.none())

    def __init__(self, *args, users=None, **kwargs):
        super().__init__(*args, **kwargs)
        if users is not None:
            self.fields["members"].child_relation.queryset = users


class ScoreInputSerializer(serializers.Serializer):
    market = serializers.ChoiceField(choices=SCORE_CHOICES, required=False, allow_null=True)
    customer = serializers.ChoiceField(choices=SCORE_CHOICES, required=False, allow_null=True)
    capacity = serializers.ChoiceField(choices=SCORE_CHOICES, required=False, allow_null=True)


class ItemUpdateSerializer(serializers.Serializer):
    scores = ScoreInputSerializer(
        required=False, help_text=_("Your own scores, 1–5 each (any participant).")
    )
    notes = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4000,
        help_text=_("Your own notes on the item (any participant)."),
    )
    decision = serializers.ChoiceField(
        choices=ItemDecision.choices, required=False, help_text=_("The chair's decision.")
    )
    new_base = MoneyInputField(required=False, allow_null=True)
    new_stretch = MoneyInputField(required=False, allow_null=True)
    decision_note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4000,
        help_text=_("The chair's notes on the decision (read back as `notes`)."),
    )
    position = serializers.IntegerField(
        required=False, min_value=1, max_value=10_000, help_text=_("Move the item (chair).")
    )
