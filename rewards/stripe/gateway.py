"""The one place that talks to Stripe, through the official SDK (``stripe.StripeClient``).

Settings (community/settings.py, "Stripe"): ``STRIPE_SECRET_KEY``, ``STRIPE_WEBHOOK_SECRET``,
``STRIPE_PAYMENT_METHODS`` and ``STRIPE_API_BASE`` — empty in production; the tests point the
SDK at a small fake Stripe served on 127.0.0.1 (tests/rewards/fake_stripe.py), so the same
code path runs in both. Settings are read when a call is made, never at import.

Every call that creates something carries an idempotency key made from our own row id
(``checkout:<CheckoutSession id>``), so a retry — the SDK's own network retries, a double
click, a second worker — returns the session Stripe made the first time.
"""

from __future__ import annotations

import datetime
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import stripe
from django.conf import settings
from django.utils.translation import gettext as _

from members.models import Community
from rewards.models import CheckoutSession

logger = logging.getLogger(__name__)

# Webhooks signed more than this many seconds before or after our clock are refused.
WEBHOOK_TOLERANCE_SECONDS = 300
# A Checkout session stays payable this long (Stripe allows 30 minutes to 24 hours); a
# visitor who comes back later gets a new one.
CHECKOUT_LIFETIME = datetime.timedelta(hours=1)
REQUEST_TIMEOUT_SECONDS = 20
# Payment methods that can pay a recurring subscription; WeChat Pay cannot.
RECURRING_METHODS = frozenset({"card", "alipay", "link", "sepa_debit", "us_bank_account"})


class StripeUnavailableError(Exception):
    """Stripe is not configured here, or could not be reached, or refused the call. The
    message is safe to show to the user."""


class StripeRefusedError(StripeUnavailableError):
    """Stripe answered and said no (a transfer it will not make): trying again will not help."""


class WebhookRejectedError(Exception):
    """A webhook whose signature, age or body is not acceptable (answered 400)."""


def configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def ensure_configured() -> None:
    if not configured():
        raise StripeUnavailableError(_("Paying online is not set up on this site yet."))


def client() -> stripe.StripeClient:
    ensure_configured()
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": base} if base else None,
        max_network_retries=2,  # safe: every creating call has an idempotency key
        http_client=stripe.RequestsClient(timeout=REQUEST_TIMEOUT_SECONDS),
    )


def _idempotent(key: str) -> stripe.RequestOptions:
    """The request options carrying an idempotency key made from our own row, after this
    deployment's name (STRIPE_DEPLOYMENT_NAME) when it shares the Stripe account."""
    name = settings.STRIPE_DEPLOYMENT_NAME
    return {"idempotency_key": f"{name}:{key}" if name else key}


def ours(metadata: Mapping[str, Any]) -> bool:
    """Whether a Stripe object's metadata is this deployment's (not another's on the same
    Stripe account: STRIPE_DEPLOYMENT_NAME)."""
    return bool(str(metadata.get("deployment") or "") == settings.STRIPE_DEPLOYMENT_NAME)


def payment_methods(*, community: Community, recurring: bool) -> list[str]:
    """The payment methods Checkout offers: cards, plus Alipay and WeChat Pay where the
    community accepts them and the site's Stripe account has them on
    (STRIPE_PAYMENT_METHODS), without the ones that cannot pay a subscription."""
    wanted = ["card"]
    if community.pay_by_alipay:
        wanted.append("alipay")
    if community.pay_by_wechat_pay:
        wanted.append("wechat_pay")
    available = {m for m in settings.STRIPE_PAYMENT_METHODS if m} | {"card"}
    methods = [m for m in wanted if m in available]
    if recurring:
        methods = [m for m in methods if m in RECURRING_METHODS]
    return methods


def _metadata(checkout: CheckoutSession) -> dict[str, str]:
    """What every Stripe object of this checkout carries back to us in its webhooks."""
    metadata = {
        "checkout": str(checkout.pk),
        "community": str(checkout.community_id),
        "membership": str(checkout.membership_id),
        "kind": checkout.kind,
    }
    if settings.STRIPE_DEPLOYMENT_NAME:
        metadata["deployment"] = settings.STRIPE_DEPLOYMENT_NAME
    return metadata


def _line(amount: int, currency: str, name: str, *, monthly: bool = False) -> dict[str, Any]:
    price: dict[str, Any] = {
        "currency": currency.lower(),
        "unit_amount": amount,
        "product_data": {"name": name[:250]},
    }
    if monthly:
        price["recurring"] = {"interval": "month"}
    return {"quantity": 1, "price_data": price}


def checkout_params(
    *,
    checkout: CheckoutSession,
    success_url: str,
    cancel_url: str,
    email: str,
    product_names: dict[str, str],
) -> dict[str, Any]:
    """The Checkout session Stripe is asked for, from our row alone (so a retry with the same
    idempotency key sends the same parameters).

    Joining is one session in ``subscription`` mode: the monthly fee as a recurring price and
    the entrance fee as a one-off line, which Stripe adds to the subscription's first invoice.
    With no monthly fee it is a one-off ``payment``. A tip is a ``payment``."""
    metadata = _metadata(checkout)
    currency = checkout.currency
    recurring = checkout.kind == CheckoutSession.Kind.JOIN and checkout.monthly_amount > 0
    lines = []
    if checkout.entrance_amount:
        lines.append(_line(checkout.entrance_amount, currency, product_names["entrance"]))
    if checkout.monthly_amount:
        lines.append(
            _line(checkout.monthly_amount, currency, product_names["monthly"], monthly=True)
        )
    if checkout.tip_amount:
        lines.append(_line(checkout.tip_amount, currency, product_names["tip"]))
    methods = payment_methods(community=checkout.community, recurring=recurring)
    params: dict[str, Any] = {
        "mode": "subscription" if recurring else "payment",
        "line_items": lines,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": str(checkout.pk),
        "metadata": metadata,
        "allowed_payment_method_types": methods,
        "expires_at": int((checkout.created_at + CHECKOUT_LIFETIME).timestamp()),
        "locale": "auto",
    }
    if email:
        params["customer_email"] = email
    if recurring:
        params["subscription_data"] = {"metadata": metadata}
    else:
        params["payment_intent_data"] = {"metadata": metadata}
        if "wechat_pay" in methods:
            params["payment_method_options"] = {"wechat_pay": {"client": "web"}}
    return params


def checkout_create(*, checkout: CheckoutSession, params: dict[str, Any]) -> tuple[str, str]:
    """Create the Checkout session for our row; returns (session id, payment page address)."""
    try:
        session = client().v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]
            options=_idempotent(f"checkout:{checkout.pk}"),
        )
    except stripe.StripeError as exc:
        raise StripeUnavailableError(
            _("Stripe could not start the payment just now. Please try again in a minute.")
        ) from exc
    if not session.id or not session.url:
        raise StripeUnavailableError(_("Stripe did not return a payment page. Please try again."))
    return str(session.id), str(session.url)


def subscription_stop(*, subscription_id: str, key: str, at_period_end: bool) -> None:
    """Stop a subscription charging: at once, or at the end of the period paid for (the
    member keeps what they paid for). Stripe then sends ``customer.subscription.deleted``
    (at once, or when the period ends), which the webhooks act on."""
    subscriptions = client().v1.subscriptions
    try:
        if at_period_end:
            subscriptions.update(
                subscription_id,
                params={"cancel_at_period_end": True},
                options=_idempotent(key),
            )
        else:
            subscriptions.cancel(subscription_id, options=_idempotent(key))
    except stripe.InvalidRequestError as exc:
        if exc.code == "resource_missing":  # gone already: nothing left to stop
            return
        raise StripeUnavailableError(str(exc)) from exc
    except stripe.StripeError as exc:
        raise StripeUnavailableError(str(exc)) from exc


# The metadata "purpose" of a Checkout session (mode "setup") that changes how a member's
# subscription is paid; its completion is handled in rewards.stripe.events.
PAYMENT_METHOD_PURPOSE = "payment_method"


def payment_method_checkout(
    *, checkout: CheckoutSession, success_url: str, cancel_url: str, key: str
) -> str:
    """The address of a Stripe Checkout page (mode ``setup``) where the member of ``checkout``
    (a join with a subscription) enters a new card or account; charges nothing. Once Stripe
    reports it complete, ``subscription_payment_method_set`` makes it the subscription's."""
    metadata = {**_metadata(checkout), "purpose": PAYMENT_METHOD_PURPOSE}
    params: dict[str, Any] = {
        "mode": "setup",
        "customer": checkout.stripe_customer_id,
        "currency": checkout.currency.lower(),
        "allowed_payment_method_types": payment_methods(
            community=checkout.community, recurring=True
        ),
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": str(checkout.pk),
        "metadata": metadata,
        "setup_intent_data": {"metadata": metadata},
        "locale": "auto",
    }
    try:
        session = client().v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]
            options=_idempotent(key),
        )
    except stripe.StripeError as exc:
        logger.warning("Stripe refused a payment-method Checkout session: %s", exc)
        raise StripeUnavailableError(
            _("Stripe could not open the page just now. Please try again in a minute.")
        ) from exc
    if not session.url:
        raise StripeUnavailableError(_("Stripe did not return a page. Please try again."))
    return str(session.url)


def subscription_payment_method_set(*, subscription_id: str, setup_intent_id: str) -> str:
    """Make the payment method a completed setup collected the one ``subscription_id`` is
    charged with from now on (Checkout gave the subscription its own default, which wins over
    the customer's). Returns the payment method's id."""
    try:
        intent = client().v1.setup_intents.retrieve(setup_intent_id)
        method = intent.payment_method
        method_id = method if isinstance(method, str) else str(getattr(method, "id", "") or "")
        if intent.status != "succeeded" or not method_id:
            return ""
        client().v1.subscriptions.update(
            subscription_id,
            params={"default_payment_method": method_id},
            options=_idempotent(f"payment-method:{setup_intent_id}"),
        )
    except stripe.StripeError as exc:
        raise StripeUnavailableError(str(exc)) from exc
    return method_id


def charge_refunds(*, charge_id: str) -> list[dict[str, Any]]:
    """Every refund of a charge (the charge in a webhook does not list them any more)."""
    try:
        found = client().v1.refunds.list(params={"charge": charge_id, "limit": 100})
    except stripe.StripeError as exc:
        raise StripeUnavailableError(str(exc)) from exc
    return [r.to_dict() for r in found.data]


def invoice_for_payment_intent(*, payment_intent: str) -> str:
    """The invoice a payment intent paid ("" if none): invoices no longer name their payment
    intent, so Stripe is asked through its invoice payments."""
    try:
        found = client().v1.invoice_payments.list(
            params={
                "payment": {"type": "payment_intent", "payment_intent": payment_intent},
                "limit": 1,
            }
        )
    except stripe.StripeError as exc:
        raise StripeUnavailableError(str(exc)) from exc
    for item in found.data:
        invoice = item.invoice
        return invoice if isinstance(invoice, str) else str(invoice.id)
    return ""


# --- Stripe Connect: members' Express accounts and transfers to them ---------------------------


def connect_account_create(*, key: str, email: str, metadata: dict[str, str]) -> str:
    """Create an Express account for a member to be paid into; returns its id. ``key`` names
    our ConnectedAccount row, so a retry returns the account made the first time."""
    if settings.STRIPE_DEPLOYMENT_NAME:
        metadata = {**metadata, "deployment": settings.STRIPE_DEPLOYMENT_NAME}
    params: dict[str, Any] = {
        "type": "express",
        "capabilities": {"transfers": {"requested": True}},
        "metadata": metadata,
    }
    if email:
        params["email"] = email
    if settings.STRIPE_CONNECT_COUNTRY:
        params["country"] = settings.STRIPE_CONNECT_COUNTRY
    try:
        account = client().v1.accounts.create(
            params=params,  # type: ignore[arg-type]
            options=_idempotent(key),
        )
    except stripe.StripeError as exc:
        logger.warning("Stripe refused to create a connected account: %s", exc)
        raise StripeUnavailableError(
            _("Stripe could not set up your account just now. Please try again in a minute.")
        ) from exc
    return str(account.id)


def account_link_create(*, account_id: str, return_url: str, refresh_url: str) -> str:
    """The address of Stripe's onboarding pages for a connected account (valid minutes)."""
    try:
        link = client().v1.account_links.create(
            params={
                "account": account_id,
                "return_url": return_url,
                "refresh_url": refresh_url,
                "type": "account_onboarding",
            }
        )
    except stripe.StripeError as exc:
        raise StripeUnavailableError(
            _("Stripe could not open the page just now. Please try again in a minute.")
        ) from exc
    return str(link.url)


def account_state(*, account_id: str) -> dict[str, bool]:
    """Whether a connected account finished onboarding and can receive transfers."""
    try:
        account = client().v1.accounts.retrieve(account_id)
    except stripe.StripeError as exc:
        raise StripeUnavailableError(str(exc)) from exc
    return account_flags(account.to_dict())


def account_flags(account: Mapping[str, Any]) -> dict[str, bool]:
    """The two facts we keep of a connected account (from the API or an event's object)."""
    capabilities = account.get("capabilities") or {}
    transfers = capabilities.get("transfers") if isinstance(capabilities, Mapping) else None
    return {
        "details_submitted": bool(account.get("details_submitted")),
        "transfers_enabled": transfers == "active",
    }


def transfer_create(
    *, amount: int, currency: str, destination: str, key: str, metadata: dict[str, str]
) -> str:
    """Transfer ``amount`` (minor units) from the platform's balance to a connected account;
    returns the transfer's id. ``key`` names our Payout row. Raises StripeRefusedError when
    Stripe refuses it, StripeUnavailableError when Stripe cannot be reached (try again)."""
    if settings.STRIPE_DEPLOYMENT_NAME:
        metadata = {**metadata, "deployment": settings.STRIPE_DEPLOYMENT_NAME}
    try:
        transfer = client().v1.transfers.create(
            params={
                "amount": amount,
                "currency": currency.lower(),
                "destination": destination,
                "metadata": metadata,
            },
            options=_idempotent(key),
        )
    except (stripe.InvalidRequestError, stripe.PermissionError) as exc:
        raise StripeRefusedError(str(exc.user_message or exc)) from exc
    except stripe.StripeError as exc:
        raise StripeUnavailableError(str(exc)) from exc
    return str(transfer.id)


def _signed_at(header: str) -> int:
    for part in header.split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    raise WebhookRejectedError("no timestamp in the signature header")


def event_verify(*, payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event a webhook carries, once its signature is checked with the real algorithm
    (HMAC-SHA256 over ``t.payload`` with STRIPE_WEBHOOK_SECRET — or, for events about
    members' connected accounts, which Stripe signs for the Connect endpoint,
    STRIPE_CONNECT_WEBHOOK_SECRET) and its timestamp is within ±300 s of now. Raises
    WebhookRejectedError otherwise."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejectedError("the body is not UTF-8") from None
    secrets = [settings.STRIPE_WEBHOOK_SECRET]
    if settings.STRIPE_CONNECT_WEBHOOK_SECRET:
        secrets.append(settings.STRIPE_CONNECT_WEBHOOK_SECRET)
    refusal = "no signature"
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(
                text, signature, secret, WEBHOOK_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError as exc:
            refusal = str(exc)
            continue
        break
    else:
        raise WebhookRejectedError(refusal)
    # The SDK refuses only old signatures; one from the future is as suspect.
    if abs(time.time() - _signed_at(signature or "")) > WEBHOOK_TOLERANCE_SECONDS:
        raise WebhookRejectedError("the signature's timestamp is outside the tolerance")
    try:
        event = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply to parse
        raise WebhookRejectedError("the body is not JSON") from None
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not 0 < len(event["id"]) <= 255
        or not isinstance(event.get("type"), str)
        or not 0 < len(event["type"]) <= 100
        or not isinstance(event.get("data"), dict)
        or not isinstance(event["data"].get("object"), dict)
    ):
        raise WebhookRejectedError("the body is not a Stripe event")
    return event
