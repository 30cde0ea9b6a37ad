"""A small fake Stripe for the tests, served over HTTP on 127.0.0.1 so the real SDK (pointed
at it through STRIPE_API_BASE) makes real requests: it records each one (path, idempotency key,
form parameters) and answers the few calls the app makes.

- ``POST /v1/checkout/sessions`` makes a session whose ``url`` is a fake payment page here;
  the same idempotency key gets the same session back, as on Stripe.
- ``GET /pay/<session>`` shows that page; ``POST /pay/<session>`` "pays" and redirects the
  browser to the session's success URL (the browser test walks through it).
- A session in ``setup`` mode, once "paid", holds a succeeded SetupIntent with a new payment
  method (``GET /v1/setup_intents/<id>``); ``POST /v1/subscriptions/<id>`` with
  ``default_payment_method`` is recorded in ``subscription_methods``.
- ``GET /v1/invoice_payments`` and ``GET /v1/refunds`` answer from what a test put in
  ``invoice_of`` and ``refunds_of``.

It also builds the events Stripe would send (``session_completed``, ``invoice``,
``charge``, …) and delivers them signed with the real algorithm (``deliver``).
"""

from __future__ import annotations

import contextlib
import html
import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe
from django.test import Client

SECRET_KEY = "sk_test_fake_0123456789"
WEBHOOK_SECRET = "whsec_test_fake_secret"
WEBHOOK_PATH = "/payments/stripe/webhook/"


@dataclass
class Recorded:
    method: str
    path: str
    idempotency_key: str | None
    params: dict[str, str]
    authorization: str


@dataclass
class FakeStripe:
    base_url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    invoice_of: dict[str, str] = field(default_factory=dict)  # payment intent → invoice
    refunds_of: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # charge →
    fail_with: tuple[int, dict[str, Any]] | None = None
    setup_intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    # subscription id → the payment method it was told to charge from now on
    subscription_methods: dict[str, str] = field(default_factory=dict)
    # subscription id → what was asked of it: "cancelled" or "cancel_at_period_end"
    subscription_changes: dict[str, str] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._ids):05d}"

    def created(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/v1/checkout/sessions"]

    # --- the API --------------------------------------------------------------------------

    def create_session(self, params: dict[str, str], key: str | None) -> dict[str, Any]:
        with self._lock:
            if key and key in self.by_key:
                return self.sessions[self.by_key[key]]
            session_id = self.next_id("cs")
            amounts = [
                int(params[k])
                * int(params.get(k.replace("price_data][unit_amount", "quantity"), 1))
                for k in params
                if k.startswith("line_items[") and k.endswith("[price_data][unit_amount]")
            ]
            metadata = {
                k[len("metadata[") : -1]: v for k, v in params.items() if k.startswith("metadata[")
            }
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": params.get("mode"),
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": sum(amounts),
                "currency": params.get("line_items[0][price_data][currency]")
                or params.get("currency"),
                "metadata": metadata,
                "client_reference_id": params.get("client_reference_id"),
                "customer_email": params.get("customer_email"),
                "success_url": params.get("success_url"),
                "cancel_url": params.get("cancel_url"),
                "url": f"{self.base_url}/pay/{session_id}",
                "customer": params.get("customer"),
                "subscription": None,
                "invoice": None,
                "payment_intent": None,
            }
            self.sessions[session_id] = session
            if key:
                self.by_key[key] = session_id
            return session

    def pay(self, session_id: str) -> dict[str, Any]:
        """What paying on Stripe's page does to the session."""
        session = self.sessions[session_id]
        if session["status"] != "complete":
            session.update(status="complete", payment_status="paid")
            if session["mode"] == "setup":
                session["payment_status"] = "no_payment_required"
                intent_id = self.next_id("seti")
                self.setup_intents[intent_id] = {
                    "id": intent_id,
                    "object": "setup_intent",
                    "status": "succeeded",
                    "customer": session["customer"],
                    "payment_method": self.next_id("pm"),
                }
                session["setup_intent"] = intent_id
                return session
            session["customer"] = self.next_id("cus")
            if session["mode"] == "subscription":
                session["subscription"] = self.next_id("sub")
                session["invoice"] = self.next_id("in")
            else:
                session["payment_intent"] = self.next_id("pi")
        return session


class _Handler(BaseHTTPRequestHandler):
    fake: FakeStripe

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _record(self, params: dict[str, str]) -> None:
        self.fake.requests.append(
            Recorded(
                method=self.command,
                path=urlsplit(self.path).path,
                idempotency_key=self.headers.get("Idempotency-Key"),
                params=params,
                authorization=self.headers.get("Authorization", ""),
            )
        )

    def _send(self, status: int, body: str, content_type: str = "application/json") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", "req_fake")
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload))

    def _list(self, url: str, data: list[dict[str, Any]]) -> None:
        self._json(200, {"object": "list", "url": url, "has_more": False, "data": data})

    def _not_found(self) -> None:
        error = {"type": "invalid_request_error", "message": f"Unrecognized URL {self.path}"}
        self._json(404, {"error": error})

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if parts.path.startswith("/pay/"):
            session = self.fake.sessions.get(parts.path.removeprefix("/pay/"))
            if session is None:
                return self._not_found()
            return self._send(200, _page(session), "text/html; charset=utf-8")
        self._record(params)
        if parts.path == "/v1/invoice_payments":
            invoice = self.fake.invoice_of.get(params.get("payment[payment_intent]", ""))
            found = [] if invoice is None else [_invoice_payment(invoice, params)]
            return self._list(parts.path, found)
        if parts.path == "/v1/refunds":
            return self._list(parts.path, self.fake.refunds_of.get(params.get("charge", ""), []))
        if parts.path.startswith("/v1/setup_intents/"):
            intent = self.fake.setup_intents.get(parts.path.removeprefix("/v1/setup_intents/"))
            return self._not_found() if intent is None else self._json(200, intent)
        return self._not_found()

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        params = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
        if parts.path.startswith("/pay/"):
            session_id = parts.path.removeprefix("/pay/")
            if session_id not in self.fake.sessions:
                return self._not_found()
            session = self.fake.pay(session_id)
            self.send_response(303)
            target = str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        self._record(params)
        if self.fake.fail_with is not None:
            status, error = self.fake.fail_with
            return self._json(status, {"error": error})
        if parts.path == "/v1/checkout/sessions":
            key = self.headers.get("Idempotency-Key")
            return self._json(200, self.fake.create_session(params, key))
        if parts.path.startswith("/v1/subscriptions/"):
            subscription_id = parts.path.removeprefix("/v1/subscriptions/")
            if params.get("default_payment_method"):
                self.fake.subscription_methods[subscription_id] = params["default_payment_method"]
            at_end = params.get("cancel_at_period_end") == "true"
            if at_end and self.fake.subscription_changes.get(subscription_id) != "cancelled":
                self.fake.subscription_changes[subscription_id] = "cancel_at_period_end"
            return self._subscription(subscription_id)
        return self._not_found()

    def do_DELETE(self) -> None:
        parts = urlsplit(self.path)
        self._record({})
        if self.fake.fail_with is not None:
            status, error = self.fake.fail_with
            return self._json(status, {"error": error})
        if parts.path.startswith("/v1/subscriptions/"):
            subscription_id = parts.path.removeprefix("/v1/subscriptions/")
            self.fake.subscription_changes[subscription_id] = "cancelled"
            return self._subscription(subscription_id)
        return self._not_found()

    def _subscription(self, subscription_id: str) -> None:
        change = self.fake.subscription_changes.get(subscription_id, "")
        return self._json(
            200,
            {
                "id": subscription_id,
                "object": "subscription",
                "status": "canceled" if change == "cancelled" else "active",
                "cancel_at_period_end": change == "cancel_at_period_end",
            },
        )


def _invoice_payment(invoice: str, params: dict[str, str]) -> dict[str, Any]:
    return {
        "id": f"inpay_for_{invoice}",
        "object": "invoice_payment",
        "invoice": invoice,
        "payment": {"type": "payment_intent", "payment_intent": params["payment[payment_intent]"]},
        "status": "paid",
    }


def _page(session: dict[str, Any]) -> str:
    amount = f"{session['amount_total'] / 100:.2f} {str(session['currency']).upper()}"
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Fake Stripe Checkout</title>"
        "</head><body><h1>Fake Stripe Checkout</h1>"
        f"<p id='amount'>{html.escape(amount)}</p>"
        f"<form method='post' action='/pay/{html.escape(session['id'])}'>"
        "<button type='submit'>Pay</button></form></body></html>"
    )


@contextlib.contextmanager
def serve(settings: Any) -> Iterator[FakeStripe]:
    """Run the fake Stripe and point the SDK and the webhook secret at it (``settings`` is
    pytest-django's fixture, which puts them back afterwards)."""
    fake = FakeStripe()
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = fake.base_url
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


# --- Events, as Stripe sends them --------------------------------------------------------------

_event_ids = itertools.count(1)


def now() -> int:
    return int(time.time())


def event(type_: str, obj: dict[str, Any], *, created: int | None = None) -> dict[str, Any]:
    return {
        "id": f"evt_test_{next(_event_ids):06d}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": created if created is not None else now(),
        "livemode": False,
        "type": type_,
        "data": {"object": obj},
    }


def session_completed(session: dict[str, Any], *, created: int | None = None) -> dict[str, Any]:
    return event("checkout.session.completed", dict(session), created=created)


def invoice(
    *,
    invoice_id: str,
    subscription: str,
    metadata: dict[str, str],
    amount: int,
    created: int,
    paid_at: int | None = None,
    first: bool = False,
    currency: str = "cny",
) -> dict[str, Any]:
    return {
        "id": invoice_id,
        "object": "invoice",
        "amount_paid": amount if paid_at is not None else 0,
        "amount_due": amount,
        "currency": currency,
        "billing_reason": "subscription_create" if first else "subscription_cycle",
        "created": created,
        "status": "paid" if paid_at is not None else "open",
        "status_transitions": {"paid_at": paid_at},
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription, "metadata": metadata},
        },
    }


def charge(
    *,
    charge_id: str,
    payment_intent: str,
    amount: int,
    refunds: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A charge; with ``refunds`` they are listed in it (older API versions), without them
    the app asks GET /v1/refunds."""
    refunded = sum(r["amount"] for r in refunds or [])
    obj: dict[str, Any] = {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_refunded": refunded,
        "currency": "cny",
        "payment_intent": payment_intent,
        "refunded": refunded == amount,
        "status": "succeeded",
    }
    if refunds is not None:
        obj["refunds"] = {"object": "list", "data": refunds, "has_more": False}
    return obj


def refund(refund_id: str, amount: int, created: int) -> dict[str, Any]:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "created": created,
        "status": "succeeded",
    }


def dispute(
    *, dispute_id: str, charge_id: str, payment_intent: str, amount: int, status: str = "lost"
) -> dict[str, Any]:
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "charge": charge_id,
        "payment_intent": payment_intent,
        "currency": "cny",
        "status": status,
        "created": now() - 3600,
    }


def subscription(
    *, subscription_id: str, metadata: dict[str, str], period_end: int, ended_at: int
) -> dict[str, Any]:
    return {
        "id": subscription_id,
        "object": "subscription",
        "status": "canceled",
        "metadata": metadata,
        "canceled_at": ended_at,
        "ended_at": ended_at,
        "items": {"object": "list", "data": [{"current_period_end": period_end}]},
    }


def signed(payload: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)


def deliver(
    client: Client,
    event_: dict[str, Any],
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
) -> Any:
    """POST an event to the webhook as Stripe does: the raw JSON body and its signature."""
    payload = json.dumps(event_)
    return client.post(
        WEBHOOK_PATH,
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": signed(payload, secret=secret, timestamp=timestamp)},
    )
