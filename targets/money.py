"""Money as stored and validated: one home for the field shape and the limits."""

from __future__ import annotations

from decimal import Decimal

# Model field kwargs for every CNY amount: 2 places, never floats.
MONEY = {"max_digits": 16, "decimal_places": 2}
CENT = Decimal("0.01")
# 15 significant digits: what SQLite's doubles hold exactly (the API enforces the same).
MAX_AMOUNT = Decimal("9999999999999.99")
