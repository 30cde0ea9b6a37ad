"""Every write to communities, memberships, profiles and tags.

Services validate, lock what they read-to-write, write, record an audit row for role, status,
settings and phase changes, and queue tasks on commit. They raise ``ValidationError`` with a
dict naming the field; the portal shows it on the form and the API answers 400 with it.
"""

from members.services.communities import (
    COMMUNITY_RULE_FIELDS,
    audit,
    community_create,
    community_enter_growth,
    community_sync_phase,
    community_update,
)
from members.services.memberships import (
    ADDABLE_ROLES,
    MAX_EMAIL_LENGTH,
    candidate_enrol,
    member_add,
    membership_change,
    membership_end,
    membership_paid,
)
from members.services.profiles import (
    MAX_TAGS_PER_KIND,
    PROFILE_TAG_FIELDS,
    PROFILE_TEXT_FIELDS,
    profile_refresh_search,
    profile_update,
    tag_create,
)

__all__ = [
    "ADDABLE_ROLES",
    "COMMUNITY_RULE_FIELDS",
    "MAX_EMAIL_LENGTH",
    "MAX_TAGS_PER_KIND",
    "PROFILE_TAG_FIELDS",
    "PROFILE_TEXT_FIELDS",
    "audit",
    "candidate_enrol",
    "community_create",
    "community_enter_growth",
    "community_sync_phase",
    "community_update",
    "member_add",
    "membership_change",
    "membership_end",
    "membership_paid",
    "profile_refresh_search",
    "profile_update",
    "tag_create",
]
