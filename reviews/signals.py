"""What the reviews app announces; apps built on it (integrations) listen without reviews
knowing them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the submitting transaction with `proposal`; a receiver that does slow or
# external work schedules it with `transaction.on_commit`.
proposal_submitted = Signal()
