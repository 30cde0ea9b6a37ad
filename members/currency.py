"""Currencies a community may charge in, and conversion between major and minor units.

Money is stored as integer minor units (fen for CNY). Decimal is used only at the edges:
to read what an organiser types into a form and to format an amount for display.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Currency(models.TextChoices):
    CNY = "CNY", _("Chinese yuan (CNY)")
    HKD = "HKD", _("Hong Kong dollar (HKD)")
    TWD = "TWD", _("New Taiwan dollar (TWD)")
    SGD = "SGD", _("Singapore dollar (SGD)")
    USD = "USD", _("US dollar (USD)")
    EUR = "EUR", _("Euro (EUR)")
    GBP = "GBP", _("Pound sterling (GBP)")
    JPY = "JPY", _("Japanese yen (JPY)")


# ISO 4217 minor-unit exponents for the currencies above.
EXPONENT: dict[str, int] = {
    "CNY": 2,
    "HKD": 2,
    "TWD": 2,
    "SGD": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "JPY": 0,
}

SYMBOL: dict[str, str] = {
    "CNY": "¥",
    "HKD": "HK$",
    "TWD": "NT$",
    "SGD": "S$",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
}

# An upper bound for any single fee, as a guard against typing errors: 10 million major units.
MAX_MAJOR_UNITS = 10_000_000


def max_minor(currency: str) -> int:
    return MAX_MAJOR_UNITS * 10 ** EXPONENT[currency]


def to_minor(amount: Decimal | str, currency: str) -> int:
    """Convert an amount in major units (e.g. ``"200.00"``) to integer minor units.

    Refuses more decimal places than the currency has, so nothing is silently rounded.
    """
    try:
        value = Decimal(amount)
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise ValidationError(_("Enter an amount such as 200.00."), code="invalid") from exc
    if not value.is_finite():
        raise ValidationError(_("Enter an amount such as 200.00."), code="invalid")
    exponent = EXPONENT[currency]
    if value.adjusted() > 18:  # far beyond any fee; keeps the arithmetic below in range
        raise ValidationError(_("This amount is too large."), code="too_large")
    minor = value.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise ValidationError(
            _("%(currency)s amounts have at most %(places)d decimal places."),
            code="precision",
            params={"currency": currency, "places": exponent},
        )
    return int(minor)


def to_major(amount: int, currency: str) -> Decimal:
    exponent = EXPONENT[currency]
    return (Decimal(amount).scaleb(-exponent)).quantize(
        Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP
    )


def format_amount(amount: int, currency: str) -> str:
    """``20000, "CNY"`` → ``"¥200.00"``; grouping with commas: ``"¥1,923.08"``."""
    major = to_major(amount, currency)
    sign = "-" if major < 0 else ""
    return f"{sign}{SYMBOL[currency]}{abs(major):,}"
