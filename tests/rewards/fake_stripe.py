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
- Stripe Connect: ``POST /v1/accounts`` makes an Express account (not onboarded: its
  ``transfers`` capability is inactive until a test calls ``complete_onboarding``),
  ``GET /v1/accounts/<id>`` reads it, ``POST /v1/account_links`` gives an onboarding address
  here, ``POST /v1/transfers`` moves money to an account that can receive it (refused, as on
  Stripe, for an unknown destination or one whose transfers are not active). Accounts and
  transfers are kept per idempotency key: the same key gets the same object back, and the
  same key with other parameters is refused (``idempotency_error``), as on Stripe.
- ``fail_with`` makes every POST and DELETE (and the Connect reads) answer an error instead;
  ``refuse`` and ``go_down`` set the usual ones: a 400 Stripe will not change its mind about,
  and a 500 that the SDK is told not to retry (``Stripe-Should-Retry: false``, as Stripe
  sends with most 500s), so no test waits out the SDK's backoff.

It also builds the events Stripe would send (``session_completed``, ``invoice``,
``charge``, ``transfer_created``, ``transfer_reversed``, ``account_updated``, …) and delivers
them signed with the real algorithm (``deliver``).
"""

from __future__ import annotations

import contextlib
import html
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
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
    # with ``fail_with``: the Stripe-Should-Retry header sent with the error (None: none)
    should_retry: bool | None = None
    # Stripe Connect: account id → account; transfer id → transfer; the onboarding links made
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    account_links: list[dict[str, Any]] = field(default_factory=list)
    # idempotency key → (path, parameters, the object made) for accounts and transfers
    replies: dict[str, tuple[str, dict[str, str], dict[str, Any]]] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # A test's hook, called with each recorded API request in the server's own thread while
    # the app waits for the answer (tests/rewards/test_locks.py checks no lock is held then).
    on_request: Callable[[Recorded], None] | None = None

    def next_id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._ids):05d}"

    def created(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/v1/checkout/sessions"]

    def calls(self, path: str, method: str = "POST") -> list[Recorded]:
        """The requests made to ``path`` (``/v1/transfers``, ``/v1/accounts``…)."""
        return [r for r in self.requests if r.path == path and r.method == method]

    # --- what a test makes Stripe do --------------------------------------------------------

    def refuse(self, code: str, message: str) -> None:
        """Every call is refused with a 400 ``invalid_request_error`` (e.g. a transfer with
        ``balance_insufficient``): Stripe answered, and trying again will not help."""
        self.fail_with = (400, {"type": "invalid_request_error", "code": code, "message": message})
        self.should_retry = None

    def go_down(self) -> None:
        """Every call fails with a 500, which the SDK is told not to retry."""
        self.fail_with = (500, {"type": "api_error", "message": "Stripe is having trouble."})
        self.should_retry = False

    def recover(self) -> None:
        self.fail_with, self.should_retry = None, None

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """The member finished Stripe's onboarding pages: details submitted, transfers on.
        Returns the account as Stripe now has it (for ``account_updated``)."""
        with self._lock:
            account = self.accounts[account_id]
            account.update(details_submitted=True, charges_enabled=True, payouts_enabled=True)
            account["capabilities"] = {**account["capabilities"], "transfers": "active"}
            return _copy(account)

    def reverse_transfer(self, transfer_id: str, amount: int | None = None) -> dict[str, Any]:
        """Reverse (all of, or ``amount`` more of) a transfer; returns it as Stripe now has it
        (for ``transfer_reversed``)."""
        with self._lock:
            transfer = self.transfers[transfer_id]
            left = transfer["amount"] - transfer["amount_reversed"]
            amount = left if amount is None else amount
            assert 0 < amount <= left, f"{amount} of {left} left to reverse"
            reversal = {
                "id": self.next_id("trr"),
                "object": "transfer_reversal",
                "amount": amount,
                "currency": transfer["currency"],
                "created": now(),
                "transfer": transfer_id,
            }
            transfer["reversals"]["data"].append(reversal)
            transfer["reversals"]["total_count"] += 1
            transfer["amount_reversed"] += amount
            transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
            return _copy(transfer)

    # --- Stripe Connect, as the API answers it ----------------------------------------------

    def _again(
        self, path: str, params: dict[str, str], key: str | None
    ) -> tuple[int, dict[str, Any]] | None:
        """What Stripe answers a key it has seen (the same object, or a refusal when the
        parameters differ); None for a new key. Call with the lock held."""
        if not key or key not in self.replies:
            return None
        first_path, first_params, made = self.replies[key]
        if (first_path, first_params) != (path, params):
            return 400, _error(
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters "
                "they were first used with.",
            )
        return 200, _copy(made)

    def create_account(self, params: dict[str, str], key: str | None) -> tuple[int, dict[str, Any]]:
        with self._lock:
            again = self._again("/v1/accounts", params, key)
            if again is not None:
                return again
            account_id = self.next_id("acct")
            account = {
                "id": account_id,
                "object": "account",
                "type": params.get("type"),
                "email": params.get("email"),
                "country": params.get("country") or "SG",
                "created": now(),
                "details_submitted": False,
                "charges_enabled": False,
                "payouts_enabled": False,
                "capabilities": {
                    name[len("capabilities[") : -len("][requested]")]: "inactive"
                    for name, value in params.items()
                    if name.startswith("capabilities[")
                    and name.endswith("][requested]")
                    and value == "true"
                },
                "metadata": _nested(params, "metadata"),
            }
            self.accounts[account_id] = account
            if key:
                self.replies[key] = ("/v1/accounts", params, account)
            return 200, _copy(account)

    def create_account_link(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            account_id = params.get("account", "")
            if account_id not in self.accounts:
                return 400, _error("resource_missing", f"No such account: '{account_id}'")
            link = {
                "object": "account_link",
                "created": now(),
                "expires_at": now() + 300,
                "url": f"{self.base_url}/setup/{account_id}/{len(self.account_links) + 1}",
                "account": account_id,
                "type": params.get("type"),
                "return_url": params.get("return_url"),
                "refresh_url": params.get("refresh_url"),
            }
            self.account_links.append(link)
            return 200, {k: link[k] for k in ("object", "created", "expires_at", "url")}

    def create_transfer(
        self, params: dict[str, str], key: str | None
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            again = self._again("/v1/transfers", params, key)
            if again is not None:
                return again
            amount, destination = params.get("amount", ""), params.get("destination", "")
            if not amount.isdigit() or int(amount) <= 0 or not params.get("currency"):
                return 400, _error("parameter_invalid_integer", "Invalid amount or currency.")
            account = self.accounts.get(destination)
            if account is None:
                return 400, _error("resource_missing", f"No such destination: '{destination}'")
            if account["capabilities"].get("transfers") != "active":
                return 400, _error(
                    "insufficient_capabilities_for_transfer",
                    "Your destination account needs to have the transfers capability enabled.",
                )
            made = transfer(
                transfer_id=self.next_id("tr"),
                amount=int(amount),
                currency=params["currency"],
                destination=destination,
                metadata=_nested(params, "metadata"),
            )
            self.transfers[made["id"]] = made
            if key:
                self.replies[key] = ("/v1/transfers", params, made)
            return 200, _copy(made)

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
        recorded = Recorded(
            method=self.command,
            path=urlsplit(self.path).path,
            idempotency_key=self.headers.get("Idempotency-Key"),
            params=params,
            authorization=self.headers.get("Authorization", ""),
        )
        self.fake.requests.append(recorded)
        if self.fake.on_request is not None:
            self.fake.on_request(recorded)

    def _send(
        self,
        status: int,
        body: str,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", "req_fake")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _fail(self) -> None:
        """Answer the error a test set in ``fail_with``."""
        assert self.fake.fail_with is not None
        status, error = self.fake.fail_with
        retry = self.fake.should_retry
        headers = {} if retry is None else {"Stripe-Should-Retry": "true" if retry else "false"}
        self._send(status, json.dumps({"error": error}), headers=headers)

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
        if parts.path.startswith("/v1/accounts/"):
            if self.fake.fail_with is not None:
                return self._fail()
            account_id = parts.path.removeprefix("/v1/accounts/")
            account = self.fake.accounts.get(account_id)
            if account is None:
                return self._json(
                    404, _error("resource_missing", f"No such account: '{account_id}'")
                )
            return self._json(200, _copy(account))
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
            return self._fail()
        key = self.headers.get("Idempotency-Key")
        if parts.path == "/v1/checkout/sessions":
            return self._json(200, self.fake.create_session(params, key))
        if parts.path == "/v1/accounts":
            return self._json(*self.fake.create_account(params, key))
        if parts.path == "/v1/account_links":
            return self._json(*self.fake.create_account_link(params))
        if parts.path == "/v1/transfers":
            return self._json(*self.fake.create_transfer(params, key))
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
            return self._fail()
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


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"type": "invalid_request_error", "code": code, "message": message}}


def _nested(params: dict[str, str], name: str) -> dict[str, str]:
    """The flat form parameters under ``name[...]`` (``metadata[payout]`` → ``payout``)."""
    prefix = f"{name}["
    return {k[len(prefix) : -1]: v for k, v in params.items() if k.startswith(prefix)}


def _copy(obj: dict[str, Any]) -> dict[str, Any]:
    """A deep copy, so what a test holds does not change when the fake's object does."""
    copied: dict[str, Any] = json.loads(json.dumps(obj))
    return copied


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
    # A short poll so that shutdown() returns at once when the test ends (the default waits
    # up to half a second per test).
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
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


def transfer(
    *,
    transfer_id: str,
    amount: int,
    destination: str,
    metadata: dict[str, str],
    currency: str = "cny",
    amount_reversed: int = 0,
    created: int | None = None,
) -> dict[str, Any]:
    """A transfer to a connected account, as Stripe shows it (``reverse_transfer`` reverses
    one the fake made)."""
    return {
        "id": transfer_id,
        "object": "transfer",
        "amount": amount,
        "amount_reversed": amount_reversed,
        "currency": currency,
        "created": created if created is not None else now(),
        "destination": destination,
        "livemode": False,
        "metadata": dict(metadata),
        "reversals": {"object": "list", "data": [], "has_more": False, "total_count": 0},
        "reversed": amount_reversed == amount,
    }


def transfer_created(transfer_: dict[str, Any], *, created: int | None = None) -> dict[str, Any]:
    return event("transfer.created", _copy(transfer_), created=created)


def transfer_reversed(transfer_: dict[str, Any], *, created: int | None = None) -> dict[str, Any]:
    """``transfer.reversed`` for a transfer as it stands after a reversal (its ``amount``,
    ``amount_reversed`` and ``metadata`` with our ``payout``)."""
    return event("transfer.reversed", _copy(transfer_), created=created)


def account_updated(account: dict[str, Any], *, created: int | None = None) -> dict[str, Any]:
    """``account.updated`` for a connected account: an event on that account, so it names it
    (``account``), as Connect events do."""
    return {**event("account.updated", _copy(account), created=created), "account": account["id"]}


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
