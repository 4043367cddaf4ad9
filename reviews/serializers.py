from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from reviews.models import AdjustmentCase, Proposal, ProposalReason
from reviews.services import Decision
from targets.api.serializers import MoneyField, MoneyInputField
from targets.models import Target


class ProposalSerializer(serializers.ModelSerializer):
    proposed_base = MoneyField()
    proposed_stretch = MoneyField()
    author_name = serializers.CharField(source="author.__str__", read_only=True)
    attachment_url = serializers.SerializerMethodField(
        help_text=_("Where those who see the proposal download its attachment; null without one.")
    )

    class Meta:
        model = Proposal
        fields = [
            "id",
            "target",
            "proposed_base",
            "proposed_stretch",
            "reason",
            "explanation",
            "attachment_name",
            "attachment_url",
            "status",
            "author",
            "author_name",
            "created_at",
            "submitted_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "revision",
        ]
        read_only_fields = fields

    def get_attachment_url(self, obj: Proposal) -> str | None:
        if not obj.attachment:
            return None
        return reverse("proposal-attachment-download", args=[obj.pk])


class AttachmentInputSerializer(serializers.Serializer):
    attachment = serializers.FileField(
        help_text=_("A PDF, a PNG or JPEG image, or an XLSX workbook; at most 10 MB.")
    )


class ProposalInputSerializer(serializers.Serializer):
    target = serializers.PrimaryKeyRelatedField(queryset=Target.objects.all())
    proposed_base = MoneyInputField()
    proposed_stretch = MoneyInputField()
    reason = serializers.ChoiceField(choices=ProposalReason.choices)
    explanation = serializers.CharField(
        allow_blank=True, required=False, default="", max_length=4000
    )
    submit = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Submit at once instead of keeping a draft."),
    )


class ProposalUpdateSerializer(serializers.Serializer):
    proposed_base = MoneyInputField(required=False)
    proposed_stretch = MoneyInputField(required=False)
    reason = serializers.ChoiceField(choices=ProposalReason.choices, required=False)
    explanation = serializers.CharField(allow_blank=True, required=False, max_length=4000)


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[(c, c) for c in Decision.CHOICES])
    note = serializers.CharField(allow_blank=True, required=False, default="", max_length=4000)


class CaseWeekSerializer(serializers.Serializer):
    week = serializers.CharField()
    plan = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    actual = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    deviation = serializers.DecimalField(
        max_digits=20, decimal_places=2, allow_null=True, help_text=_("Percent off plan.")
    )


class AdjustmentCaseSerializer(serializers.ModelSerializer):
    weeks = CaseWeekSerializer(many=True)
    review = serializers.SerializerMethodField()

    class Meta:
        model = AdjustmentCase
        fields = [
            "id",
            "target",
            "indicator",
            "opened_at",
            "opened_week",
            "weeks",
            "state",
            "review",
        ]
        read_only_fields = fields

    def get_review(self, obj: AdjustmentCase) -> int | None:
        # The latest review whose agenda holds the case (annotated by the list).
        return getattr(obj, "review_id", None)
