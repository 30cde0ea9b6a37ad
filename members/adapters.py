"""django-allauth hooks: a new account, or one signing in that has none yet, keeps the
language it is using as the one we write e-mails to it in (members.mail)."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.utils import translation

from members import mail
from members.models import User


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        language = translation.get_language()
        if language and not user.language:
            user.language = language if language in mail.supported_languages() else ""
        return super().save_user(request, user, form, commit)

    def login(self, request: HttpRequest, user: Any) -> None:
        super().login(request, user)
        if isinstance(user, User) and not user.language:
            mail.remember_language(user, translation.get_language())
