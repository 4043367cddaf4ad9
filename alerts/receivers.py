from __future__ import annotations

from django.dispatch import receiver

from alerts.connection_rules import alerts_on_sync_finished
from alerts.metric_rules import alerts_evaluate_metrics
from alerts.services import alerts_evaluate_status
from integrations.signals import sync_finished
from targets.signals import figures_recomputed, metric_values_changed


@receiver(figures_recomputed, dispatch_uid="alerts.status_worse")
def evaluate_status_rules(sender, *, period: str, **kwargs) -> None:
    # The core stored the figures before sending; compare them with the previous ones.
    alerts_evaluate_status(period=period)


@receiver(sync_finished, dispatch_uid="alerts.sync_failed")
def evaluate_sync_rules(sender, *, run, **kwargs) -> None:
    alerts_on_sync_finished(run=run)


@receiver(metric_values_changed, dispatch_uid="alerts.metric_threshold")
def evaluate_metric_rules(sender, *, metric_ids, **kwargs) -> None:
    alerts_evaluate_metrics(metric_ids=metric_ids)
