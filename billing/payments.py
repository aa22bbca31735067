"""Where a bolt-on purchase is paid: an interface a payment processor plugs into.

The setting `BILLING_PAYMENT_PROCESSOR` names the class (a dotted path); the
default records the purchase to be invoiced later and charges nothing.
"""

import uuid
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from progression.models import Organization

DEFAULT_PROCESSOR = "billing.payments.InvoiceLaterProcessor"


@dataclass(frozen=True)
class Payment:
    """What the processor returns for an accepted charge."""

    processor: str
    reference: str


class PaymentProcessor(Protocol):
    """Takes a payment of `amount_cents` or raises a ProgressionError."""

    name: str

    def charge(
        self, *, organization: Organization, amount_cents: int, description: str
    ) -> Payment: ...


class InvoiceLaterProcessor:
    """Accepts every charge; finance invoices it from the purchase record."""

    name = "invoice_later"

    def charge(
        self, *, organization: Organization, amount_cents: int, description: str
    ) -> Payment:
        return Payment(processor=self.name, reference=f"invoice-{uuid.uuid4().hex}")


def payment_processor() -> PaymentProcessor:
    """The configured processor."""
    path = getattr(settings, "BILLING_PAYMENT_PROCESSOR", DEFAULT_PROCESSOR)
    return import_string(path)()
