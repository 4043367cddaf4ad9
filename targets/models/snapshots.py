from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class FigureSnapshot(models.Model):
    """A target's figures as stored by the last recompute (one row per target).

    List filters read `status` from here instead of recomputing every target, and alert
    rules compare `status` with `previous_status` (what the recompute before found).
    """

    target = models.OneToOneField(
        "targets.Target",
        verbose_name=_("target"),
        on_delete=models.CASCADE,
        related_name="snapshot",
    )
    period = models.CharField(_("period"), max_length=6, db_index=True)
    as_of = models.DateField(_("as of"))
    actual = models.DecimalField(_("actual"), max_digits=20, decimal_places=2)
    completion = models.DecimalField(
        _("completion"), max_digits=24, decimal_places=4, null=True, blank=True
    )
    pace = models.DecimalField(_("pace"), max_digits=24, decimal_places=4, null=True, blank=True)
    stretch_progress = models.DecimalField(
        _("stretch progress"), max_digits=24, decimal_places=4, null=True, blank=True
    )
    status = models.CharField(_("status"), max_length=10, blank=True)
    previous_status = models.CharField(_("previous status"), max_length=10, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("stored figures")
        verbose_name_plural = _("stored figures")
        indexes = [models.Index(fields=["period", "status"])]

    def __str__(self) -> str:
        return f"{self.target_id} {self.as_of} {self.status or '—'}"
