"""The moderators' admin for questions, on the community-scoped site at ``/manage/``
(``members.scoped_admin.moderation_site``): briefs to schedule (``questions``), comments to
remove (``comments``), the weekly sessions' announcements (``sessions``), the digests
(``digests``: state, e-mails, publishing; curation links to the portal's page). Each module
registers its model admin on that site; Django's admin imports this package at start-up
(autodiscover).

Rows are read-only; every write is an admin action that calls a service
(``questions.services``). People are named by handle only (``members.privacy.display_name``)
in every phase: real names and companies never appear on these pages.
"""

from questions.admin import comments, digests, questions, sessions

__all__ = ["comments", "digests", "questions", "sessions"]
