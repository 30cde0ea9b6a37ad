"""``{% member_badges membership_id %}``: the badges a member earned (rewards.results.badges),
for profile pages; one query."""

from __future__ import annotations

from typing import Any

from django import template

from rewards import results

register = template.Library()


@register.inclusion_tag("rewards/_badges.html")
def member_badges(membership_id: int) -> dict[str, Any]:
    return {"badges": results.badges(membership_id=membership_id)}
