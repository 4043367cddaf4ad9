"""The core listening to itself: derived metrics follow every recompute (after syncs and
imports, and on the schedule), so their values are as fresh as the deals behind them."""

from __future__ import annotations

from django.dispatch import receiver

from targets.services.metrics import metric_values_derive
from targets.signals import figures_recomputed


@receiver(figures_recomputed, dispatch_uid="targets.metric_derivation")
def derive_metric_values(sender, *, as_of, **kwargs) -> None:
    metric_values_derive(today=as_of)
