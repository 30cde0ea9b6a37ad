"""django-allauth hooks: a new account, or one signing in that has none yet, keeps the
language it is using as the one we write e-mails to it in (members.mail); and failed sign-ins
are counted per account, whether it is named by e-mail address or by username."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from django.contrib.sites.shortcuts import get_current_site
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

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """allauth counts failed sign-ins per *login as typed*, so an account named by its
        e-mail address and by its username had two counts (twice the guesses). Key them on
        the account; a login that names no account keeps its text (nothing to protect, and
        the per-address limit still applies)."""
        login = str(credentials.get("email") or credentials.get("username") or "").strip()
        if "@" in login:
            user = User.objects.filter(email__iexact=login).only("pk").first()
            if user is None:
                found = EmailAddress.objects.filter(email__iexact=login).only("user_id").first()
                user_id = found.user_id if found is not None else None
            else:
                user_id = user.pk
        else:
            user_id = (
                User.objects.filter(username__iexact=login).values_list("pk", flat=True).first()
            )
        site = get_current_site(request)
        if user_id is None:
            return f"{site.domain}:{login.lower()}"
        return f"{site.domain}:account:{user_id}"
