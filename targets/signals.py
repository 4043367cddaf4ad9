"""The one signal the core sends to the apps built on it (reviews, alerts, integrations).

`figures_recomputed(sender, period, as_of, figures)` is sent after each recompute, inside no
transaction, with `figures` the {target id: Figures} just computed; receivers store or
compare them. The core imports none of its receivers.
"""

from __future__ import annotations

from django.dispatch import Signal

figures_recomputed = Signal()

# `metric_values_changed(sender, metric_ids)`: counting weekly values of these process metrics
# were written (manual entry confirmed, import, derivation), sent once committed; receivers
# evaluate thresholds.
metric_values_changed = Signal()
