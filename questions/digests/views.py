"""Portal pages of the digest: the archive and a week's digest (members; candidates see the
challenge questions), curation with previews, a test e-mail and publishing (that week's
moderator, organisers), a member's digest settings with the private feed, and the one-click
unsubscribe (no sign-in)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from members import mail
from questions.digests import access, delivery, selectors, services
from questions.digests.forms import CurateForm, DigestSettingsForm
from questions.digests.models import Digest


def _curate_url(digest: Digest) -> str:
    return reverse("digests:curate", kwargs={"slug": digest.community.slug, "label": digest.label})


@login_required
def archive(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = access.access_archive(user=request.user, slug=slug)
    digests = list(selectors.archive(viewer=viewer, community=viewer.community))
    return render(
        request,
        "digests/archive.html",
        {
            "community": viewer.community,
            "viewer": viewer,
            "digests": digests,
            "can_curate": {d.pk for d in digests if access.may_curate(viewer, d)},
        },
    )


@login_required
def detail(request: HttpRequest, slug: str, label: str) -> HttpResponse:
    """A week's digest as a member reads it; for its curators, the draft's preview."""
    viewer, digest = access.access_digest(user=request.user, slug=slug, label=label)
    view = selectors.digest_view(digest=digest, viewer=viewer)
    return render(
        request,
        "digests/detail.html",
        {
            "community": viewer.community,
            "viewer": viewer,
            "view": view,
            "digest": digest,
            "can_curate": access.may_curate(viewer, digest),
        },
    )


@login_required
def curate(request: HttpRequest, slug: str, label: str) -> HttpResponse:
    viewer, digest = access.access_curation(user=request.user, slug=slug, label=label)
    view = selectors.digest_view(digest=digest, viewer=viewer, curating=True)
    items = [i for section in view.sections for i in section.items]
    status = 200
    if request.method == "POST":
        form = CurateForm(request.POST, items=[i.item for i in items])
        if form.is_valid():
            try:
                services.digest_curate(
                    digest=digest,
                    editor=viewer,
                    summary=form.cleaned_data["summary"],
                    items=form.changes(),
                )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(
                    request,
                    _("Saved. Members see the change and that it was updated.")
                    if digest.is_published
                    else _("Saved."),
                )
                return redirect(_curate_url(digest))
        status = 400
    else:
        form = CurateForm(initial={"summary": digest.summary}, items=[i.item for i in items])
    return render(
        request,
        "digests/curate.html",
        {
            "community": viewer.community,
            "viewer": viewer,
            "digest": digest,
            "view": view,
            "form": form,
            "rows": [(i, form.fields_of(i.item)) for i in items],
            "counts": delivery.counts(digest) if digest.is_published else None,
            "revisions": digest.revisions.all()[:20],
        },
        status=status,
    )


@login_required
def email_preview(request: HttpRequest, slug: str, label: str) -> HttpResponse:
    """The HTML e-mail exactly as a member receives it, in the viewer's language."""
    viewer, digest = access.access_curation(user=request.user, slug=slug, label=label)
    rendered = delivery.render(digest, mail.language_of(viewer.user))
    if request.GET.get("format") == "text":
        return HttpResponse(rendered.text, content_type="text/plain; charset=utf-8")
    return HttpResponse(rendered.html)


@login_required
@require_POST
def test_send(request: HttpRequest, slug: str, label: str) -> HttpResponse:
    viewer, digest = access.access_curation(user=request.user, slug=slug, label=label)
    if not viewer.user.email:
        messages.error(request, _("Your account has no e-mail address."))
    else:
        delivery.test_send(digest=digest, to=viewer)
        messages.success(
            request, _("A test e-mail is on its way to %(email)s.") % {"email": viewer.user.email}
        )
    return redirect(_curate_url(digest))


@login_required
@require_POST
def publish(request: HttpRequest, slug: str, label: str) -> HttpResponse:
    viewer, digest = access.access_curation(user=request.user, slug=slug, label=label)
    if digest.is_published:
        messages.info(request, _("This digest is published already; nothing was sent again."))
        return redirect(_curate_url(digest))
    try:
        services.digest_publish(digest=digest, publisher=viewer)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(_curate_url(digest))
    messages.success(request, _("Published. The e-mails to members are being sent."))
    return redirect(digest.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def digest_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """The member's digest e-mails (on or off) and their private feed."""
    viewer = access.access_archive(user=request.user, slug=slug)
    subscription = selectors.subscription(membership=viewer)
    emails_on = subscription is None or subscription.emails
    form = DigestSettingsForm(
        request.POST if request.method == "POST" else None, initial={"emails": emails_on}
    )
    if request.method == "POST" and form.is_valid():
        services.digest_emails_set(membership=viewer, on=form.cleaned_data["emails"])
        messages.success(
            request,
            _("Digest e-mails are on.")
            if form.cleaned_data["emails"]
            else _("Digest e-mails are off."),
        )
        return redirect(reverse("digests:settings", kwargs={"slug": slug}))
    feed_url = None
    if subscription is not None and subscription.feed_secret:
        feed_url = settings.SITE_URL + reverse(
            "digests:feed", kwargs={"slug": slug, "secret": subscription.feed_secret}
        )
    return render(
        request,
        "digests/settings.html",
        {"community": viewer.community, "viewer": viewer, "form": form, "feed_url": feed_url},
    )


@login_required
@require_POST
def feed_secret(request: HttpRequest, slug: str) -> HttpResponse:
    """A new feed secret (the old URL stops working), or none (``action=revoke``)."""
    viewer = access.access_archive(user=request.user, slug=slug)
    if request.POST.get("action") == "revoke":
        services.feed_secret_revoke(membership=viewer)
        messages.success(request, _("Your feed is turned off; its address no longer works."))
    else:
        services.feed_secret_renew(membership=viewer)
        messages.success(request, _("Your feed has a new address; the old one no longer works."))
    return redirect(reverse("digests:settings", kwargs={"slug": slug}))


@csrf_exempt  # RFC 8058: the mail client POSTs, with no session and no CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page with one button (a link prefetched by a mail scanner changes nothing);
    POST: turn digest e-mails off, signed in or not."""
    try:
        membership = services.membership_for_token(token)
    except services.UnsubscribeError as exc:
        return render(
            request,
            "digests/unsubscribe.html",
            {"error": str(exc), "expired": exc.expired},
            status=400 if exc.expired else 404,
        )
    done = False
    if request.method == "POST":
        services.unsubscribe(token=token)
        done = True
    return render(
        request,
        "digests/unsubscribe.html",
        {"membership": membership, "community": membership.community, "done": done},
    )
