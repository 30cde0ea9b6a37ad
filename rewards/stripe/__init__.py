"""Stripe, in one place: ``gateway`` (every call to Stripe's API, and webhook signatures),
``events`` (what each webhook event does), ``api`` and ``views`` (the endpoints that start a
Checkout and receive the webhooks). The tests fake Stripe at the HTTP boundary
(tests/rewards/fake_stripe.py); production uses the real SDK."""
