"""``{{ amount|money:currency }}``: integer minor units shown as ¥1,923.08."""

from django import template

from members.currency import EXPONENT, format_amount

register = template.Library()


@register.filter
def money(amount: object, currency: str) -> str:
    if isinstance(amount, bool) or not isinstance(amount, int) or currency not in EXPONENT:
        return ""
    return format_amount(amount, currency)
