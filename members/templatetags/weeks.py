"""``{{ week|week_label }}``: a week's first day written as its ISO week, ``2026-W48``."""

import datetime

from django import template

from members import weeks

register = template.Library()


@register.filter
def week_label(day: object) -> str:
    if not isinstance(day, datetime.date):
        return ""
    return weeks.label(day)
