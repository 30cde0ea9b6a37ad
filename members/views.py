"""Portal pages of the members app. Thin: check access, parse a form, call a service/selector."""

from __future__ import annotations

import dataclasses

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import i18n as i18n_views
from django.views.decorators.http import require_http_methods, require_POST

from members import access, cached, exports, imports, mail, privacy, selectors, services
from members.currency import format_amount
from members.errors import add_to_form
from members.forms import (
    CommunityCreateForm,
    CommunitySettingsForm,
    DirectoryFilterForm,
    MatcherForm,
    MemberAddForm,
    MemberImportForm,
    MembershipChangeForm,
    ProfileForm,
    TagCreateForm,
)
from members.invite_forms import InviteLinkForm
from members.models import Community, JoinInvite, Membership
from members.pagination import CappedPaginator
from members.services import invites as invite_services
from members.services import profiles as profile_services


def _landing_cacheable(request: HttpRequest) -> bool:
    """A visitor with nothing of their own on the page: not signed in, no session (so no
    message waiting for them), no message cookie, and the page's own address (the language
    menu sends it back as ``next``) without a query string."""
    return (
        settings.LANDING_CACHE_SECONDS > 0
        and not request.GET
        and not request.user.is_authenticated
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def landing(request: HttpRequest, slug: str) -> HttpResponse:
    """A community's public page: what it is, what it costs, how to join. A visitor's is
    the same for every visitor in a language: kept in the cache for LANDING_CACHE_SECONDS
    (the active members' count may be that old) and made anew when the community's settings
    or phase change (members.cached.landing_forget); served from there without a query."""
    key = None
    if _landing_cacheable(request):
        key = cached.landing_key(slug, get_language())
        html = cache.get(key)
        if html is not None:
            return HttpResponse(cached.with_token(request, html))
    community = access.access_community(slug=slug)
    viewer = access.membership_of(user=request.user, community=community)
    return landing_page(request, community=community, viewer=viewer, key=key)


def landing_page(
    request: HttpRequest,
    *,
    community: Community,
    viewer: Membership | None,
    key: str | None = None,
    extra: dict[str, object] | None = None,
) -> HttpResponse:
    """The landing page for a visitor, a candidate or anyone not (or no longer) reading the
    community; with ``key``, the visitors' copy is kept in the cache. ``extra``: what the
    composition root adds (a candidate's challenge answers)."""
    context = {
        **(extra or {}),
        "community": community,
        "viewer": viewer,
        # the same rules access_directory applies, and the states a page explains
        "can_read": access.is_reader(viewer),
        "can_resume": access.is_lapsed(viewer),
        "payment_pending": viewer is not None and viewer.status == Membership.Status.PENDING,
        "active_members": selectors.active_member_count(community=community),
        "entrance_fee": format_amount(community.entrance_fee, community.currency),
        "monthly_fee": format_amount(community.monthly_fee, community.currency),
    }
    if key is None:
        return render(request, "members/landing.html", context)
    html = render_to_string(
        "members/landing.html",
        {**context, "csrf_token": cached.csrf_placeholder()},
        request=request,
    )
    cache.set(key, html, settings.LANDING_CACHE_SECONDS)
    return HttpResponse(cached.with_token(request, html))


@login_required
@require_http_methods(["GET", "POST"])
def community_create(request: HttpRequest) -> HttpResponse:
    form = CommunityCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            community = services.community_create(creator=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except ValidationError as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, _("Your community is ready. You are its organiser."))
            return redirect(community.get_absolute_url())
    return render(request, "members/community_create.html", {"form": form})


def _cards_html(cards: list[privacy.ProfileCard], community: Community) -> list[SafeString]:
    """The directory's cards (linked to the profiles), rendered once for what each shows
    (members.cached.render_each): the card is what the privacy module gives this viewer."""
    return cached.render_each(
        "members/_card.html",
        [{"card": card, "community": community, "link": True} for card in cards],
        keys=[(dataclasses.astuple(card), community.slug) for card in cards],
    )


@login_required
def directory(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = access.access_directory(user=request.user, slug=slug)
    community = viewer.community
    vocabulary = selectors.vocabulary(community=community)
    form = DirectoryFilterForm(request.GET or None, vocabulary=vocabulary)
    page = None
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        filters = selectors.DirectoryFilters(
            skills=[data["skill"]] if data.get("skill") else [],
            needs=[data["need"]] if data.get("need") else [],
            hobbies=[data["hobby"]] if data.get("hobby") else [],
            industry=data.get("industry", ""),
            city=data.get("city", ""),
            role=data.get("role", ""),
            q=data.get("q", ""),
        )
        try:
            qs = selectors.directory(viewer=viewer, community=community, filters=filters)
        except ValidationError as exc:
            add_to_form(form, exc)
        else:
            page = CappedPaginator(qs, settings.DIRECTORY_PAGE_SIZE).get_page(
                request.GET.get("page")
            )
    cards = privacy.profile_cards(viewer=viewer, profiles=page.object_list) if page else []
    return render(
        request,
        "members/directory.html",
        {
            "community": community,
            "viewer": viewer,
            "form": form,
            "page": page,
            "cards": cards,
            "card_html": _cards_html(cards, community),
            # access_organiser's rule, which member_export, member_add and member_import apply
            "can_export": access.is_organiser(viewer),
            "can_add_members": access.is_organiser(viewer),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile_detail(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    viewer, profile = access.access_profile(
        user=request.user, slug=slug, membership_id=membership_id
    )
    form = None
    if access.is_organiser(viewer):
        membership = profile.membership
        form = MembershipChangeForm(
            request.POST or None, initial={"role": membership.role, "status": membership.status}
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.membership_change(actor=viewer, membership=membership, **form.cleaned_data)
            except ValidationError as exc:
                add_to_form(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect(request.path)
    elif request.method == "POST":
        access.access_organiser(user=request.user, slug=slug)
    return render(
        request,
        "members/profile_detail.html",
        {
            "community": viewer.community,
            "viewer": viewer,
            "card": privacy.profile_card(viewer=viewer, profile=profile),
            "form": form,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def my_profile(request: HttpRequest, slug: str) -> HttpResponse:
    """Edit one's own profile, with a preview of how others see it in each phase. Lapsed
    members see it read-only."""
    membership = access.access_own_profile(user=request.user, slug=slug)
    if request.method == "POST":
        access.access_own_profile_edit(user=request.user, slug=slug)
    community = membership.community
    profile = privacy.with_handle_links(selectors.profiles_with_related()).get(
        membership=membership
    )
    vocabulary = selectors.vocabulary(community=community)
    initial = {name: getattr(profile, name) for name in services.PROFILE_TEXT_FIELDS}
    initial.update(privacy.tags_of(profile))
    form = ProfileForm(request.POST or None, initial=initial, vocabulary=vocabulary)
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_update(membership=membership, data=form.cleaned_data)
        except ValidationError as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect(reverse("members:my_profile", kwargs={"slug": slug}))
    return render(
        request,
        "members/my_profile.html",
        {
            "community": community,
            "viewer": membership,
            "form": form,
            "can_edit": access.may_edit_own_profile(membership),
            "tag_form": TagCreateForm(),
            "previews": privacy.preview_cards(profile=profile),
            "handle_links": privacy.handle_links(profile=profile),
        },
    )


@login_required
@require_POST
def my_profile_handle(request: HttpRequest, slug: str) -> HttpResponse:
    """The one-click fix offered on my_profile when the handle here names the member through
    a seed-phase community: a new, neutral handle here."""
    membership = access.access_own_profile_edit(user=request.user, slug=slug)
    try:
        handle = profile_services.profile_handle_unlink(membership=membership)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        if handle is None:
            messages.info(request, _("Your handle here links you to no other community."))
        else:
            messages.success(
                request,
                _("Your handle here is now “%(handle)s”. You can change it again below.")
                % {"handle": handle},
            )
    return redirect(reverse("members:my_profile", kwargs={"slug": slug}))


@login_required
@require_POST
def tag_create(request: HttpRequest, slug: str) -> HttpResponse:
    membership = access.access_tag_create(user=request.user, slug=slug)
    form = TagCreateForm(request.POST)
    if form.is_valid():
        try:
            tag = services.tag_create(membership=membership, **form.cleaned_data)
        except ValidationError as exc:
            add_to_form(form, exc)
        else:
            messages.success(
                request, _("“%(name)s” is now in the vocabulary.") % {"name": tag.name}
            )
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))
    return HttpResponseRedirect(reverse("members:my_profile", kwargs={"slug": slug}))


@login_required
def matcher(request: HttpRequest, slug: str) -> HttpResponse:
    """For a question's needs, the members whose skills fit best (moderators)."""
    viewer = access.access_moderation(user=request.user, slug=slug)
    community = viewer.community
    vocabulary = selectors.vocabulary(community=community)
    form = MatcherForm(request.GET or None, vocabulary=vocabulary)
    page = None
    if request.GET and form.is_valid():
        qs = selectors.matcher(community=community, tag_names=form.cleaned_data["tags"])
        page = CappedPaginator(qs, settings.DIRECTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    results = [
        (profile.score, privacy.profile_card(viewer=viewer, profile=profile))
        for profile in (page.object_list if page else [])
    ]
    return render(
        request,
        "members/matcher.html",
        {"community": community, "viewer": viewer, "form": form, "page": page, "results": results},
    )


@login_required
@require_http_methods(["GET", "POST"])
def community_settings(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = access.access_organiser(user=request.user, slug=slug)
    community = viewer.community
    form = CommunitySettingsForm(
        request.POST or None, initial=CommunitySettingsForm.initial_for(community)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.community_update(actor=viewer, community=community, changes=form.cleaned_data)
        except ValidationError as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect(reverse("members:settings", kwargs={"slug": slug}))
    return render(
        request,
        "members/settings.html",
        {
            "community": community,
            "viewer": viewer,
            "form": form,
            "active_members": selectors.active_member_count(community=community),
            "audit_log": community.audit_log.select_related("actor")[:20],
        },
    )


@login_required
@require_POST
def enter_growth(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = access.access_organiser(user=request.user, slug=slug)
    try:
        services.community_enter_growth(actor=viewer, community=viewer.community)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The community is now in the growth phase."))
    return redirect(reverse("members:settings", kwargs={"slug": slug}))


@login_required
@require_http_methods(["GET", "POST"])
def member_add(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = access.access_organiser(user=request.user, slug=slug)
    form = MemberAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.member_add(
                actor=viewer,
                community=viewer.community,
                email=form.cleaned_data["email"],
                username=form.cleaned_data["username"] or None,
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, _("Added. They will receive an e-mail."))
            return redirect(
                reverse("members:profile", kwargs={"slug": slug, "membership_id": membership.pk})
            )
    return render(
        request,
        "members/member_add.html",
        {"community": viewer.community, "viewer": viewer, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def member_import(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = access.access_organiser(user=request.user, slug=slug)
    form = MemberImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = imports.members_import(
                actor=viewer,
                community=viewer.community,
                data=imports.read_upload(upload),
                create_tags=form.cleaned_data["create_tags"],
            )
        except ValidationError as exc:
            add_to_form(form, exc)
    return render(
        request,
        "members/member_import.html",
        {
            "community": viewer.community,
            "viewer": viewer,
            "form": form,
            "report": report,
            "columns": imports.COLUMNS,
        },
    )


@login_required
def member_export(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    """The directory as CSV for organisers (bulk copies of the member list stay with them)."""
    viewer = access.access_organiser(user=request.user, slug=slug)
    return exports.directory_csv_response(viewer=viewer)


def language_set(request: HttpRequest) -> HttpResponse:
    """The language menu (Django's ``set_language``); a signed-in person's choice is also kept
    as the language of the e-mails we send them."""
    response = i18n_views.set_language(request)
    if request.method == "POST" and request.user.is_authenticated:
        mail.remember_language(request.user, request.POST.get("language"))
    return response


# --- Invite links (members.services.invites) ---------------------------------------------------


def _invite_rows(request: HttpRequest, community: Community) -> list[tuple[JoinInvite, str]]:
    return [
        (invite, request.build_absolute_uri(invite.get_absolute_url()))
        for invite in invite_services.open_invites(community=community)
    ]


@login_required
@require_http_methods(["GET", "POST"])
def invite_links(request: HttpRequest, slug: str) -> HttpResponse:
    """Organisers make, copy and revoke the links that let people join without paying online."""
    viewer = access.access_organiser(user=request.user, slug=slug)
    community = viewer.community
    form = InviteLinkForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                invite_services.invite_create(
                    actor=viewer,
                    days=form.cleaned_data["days"],
                    max_uses=form.cleaned_data["max_uses"],
                )
            except ValidationError as exc:
                add_to_form(form, exc)
            else:
                messages.success(request, _("Invite link made: copy it below and send it."))
                return redirect(reverse("members:invite_links", kwargs={"slug": slug}))
    return render(
        request,
        "members/invite_links.html",
        {
            "community": community,
            "viewer": viewer,
            "form": form,
            "invites": _invite_rows(request, community),
        },
        status=status,
    )


@login_required
@require_POST
def invite_revoke(request: HttpRequest, slug: str, invite_id: int) -> HttpResponse:
    viewer = access.access_organiser(user=request.user, slug=slug)
    try:
        invite_services.invite_revoke(actor=viewer, invite_id=invite_id)
    except JoinInvite.DoesNotExist:
        raise Http404(_("No such invite link.")) from None
    messages.success(request, _("Revoked: the link no longer works."))
    return redirect(reverse("members:invite_links", kwargs={"slug": slug}))


@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """Where an invite link leads: a visitor is asked to sign up or sign in (and comes back
    here); a signed-in person accepts with one button and becomes a member."""
    community = access.access_community(slug=slug)
    invite = invite_services.invite_for(slug=slug, token=token)
    viewer = access.membership_of(user=request.user, community=community)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if invite is not None and not invite_services.invite_problem(invite):
            try:
                invite_services.invite_accept(user=request.user, invite_id=invite.pk)
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            else:
                messages.success(request, _("Welcome! You are now a member of this community."))
                return redirect(community.get_absolute_url())
    problem = invite_services.invite_problem(invite)
    already = not invite_services.may_accept(viewer)
    return render(
        request,
        "members/invite_accept.html",
        {
            "community": community,
            "viewer": viewer,
            "problem": problem,
            "already": already,
            "can_accept": request.user.is_authenticated and not problem and not already,
        },
        status=404 if invite is None else 200,
    )
