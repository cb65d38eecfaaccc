"""Receipts for succeeded charges: an HTML page, a PDF, and a mail through the mail outbox.

A charge that succeeds (or is captured) with a ``receipt_email`` gets a receipt number
and a receipt mail queued in the same transaction (``queue_receipt_mail``), as
Stripe's receipts go out on a successful charge. The mail context's outbox carries
plain-text bodies, so the mail is the receipt as text with links to the HTML page and
the PDF. The page lives at ``/app/pay/receipts/<charge id>/<token>``: the token is an
HMAC of the charge id with the deployment's secret key, so the link is unguessable
and needs no sign-in (Stripe's ``receipt_url`` works the same way), and the shop is
read from the charge id (``folio.payments.ids``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from functools import cache

import jinja2
from sqlalchemy.ext.asyncio import AsyncSession

from folio.mail import api as mail
from folio.payments.calls import Call
from folio.payments.models import Charge, CheckoutSession, PaymentIntent, PaymentMethod

__all__ = [
    "Receipt",
    "ReceiptLine",
    "format_amount",
    "load_receipt",
    "new_receipt_number",
    "queue_receipt_mail",
    "receipt_token",
    "receipt_url",
    "render_receipt_html",
    "render_receipt_pdf",
    "render_receipt_text",
]

ZERO_DECIMAL = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
"""Currencies whose amounts have no minor unit (Stripe's list): 500 JPY is written 500."""

MAIL_KIND = "payment_receipt"


@dataclass(frozen=True)
class ReceiptLine:
    """One line of what was paid for."""

    description: str
    quantity: int
    amount: int


@dataclass(frozen=True)
class Receipt:
    """Everything a receipt shows about one succeeded charge."""

    charge_id: str
    receipt_number: str
    paid_at: dt.datetime
    currency: str
    amount: int
    amount_refunded: int
    card_brand: str
    card_last4: str
    description: str | None
    lines: tuple[ReceiptLine, ...]
    email: str | None
    url: str

    @property
    def amount_text(self) -> str:
        """The amount paid, formatted."""
        return format_amount(self.amount, self.currency)

    @property
    def refunded_text(self) -> str | None:
        """The amount refunded, formatted; None when nothing was."""
        return format_amount(self.amount_refunded, self.currency) if self.amount_refunded else None


def format_amount(amount: int, currency: str) -> str:
    """``amount`` minor units of ``currency`` for people: ``12.50 EUR``, ``500 JPY``."""
    if currency.lower() in ZERO_DECIMAL:
        return f"{amount:,} {currency.upper()}"
    return f"{amount // 100:,}.{amount % 100:02d} {currency.upper()}"


def receipt_token(call: Call, charge_id: str) -> str:
    """The unguessable part of a charge's receipt link: HMAC-SHA256 of the id with the secret key."""
    key = call.settings.security.secret_key.get_secret_value().encode()
    return hmac.new(key, f"payments.receipt:{charge_id}".encode(), hashlib.sha256).hexdigest()[:32]


def receipt_url(call: Call, charge_id: str) -> str:
    """Where the receipt of ``charge_id`` is shown (``?format=pdf`` for the PDF)."""
    return f"{call.base_url.rstrip('/')}/app/pay/receipts/{charge_id}/{receipt_token(call, charge_id)}"


def new_receipt_number() -> str:
    """A receipt number in Stripe's form, ``1234-5678``."""
    digits = f"{secrets.randbelow(10**8):08d}"
    return f"{digits[:4]}-{digits[4:]}"


async def load_receipt(session: AsyncSession, call: Call, charge: Charge) -> Receipt:
    """The receipt of ``charge`` (succeeded; it gets a receipt number now if it had none)."""
    method = await session.get(PaymentMethod, charge.payment_method_id)
    intent = await session.get(PaymentIntent, charge.payment_intent_id)
    lines: tuple[ReceiptLine, ...] = ()
    if intent is not None and intent.checkout_session_id is not None:
        checkout = await session.get(CheckoutSession, intent.checkout_session_id)
        if checkout is not None:
            lines = tuple(
                ReceiptLine(line["name"], line["quantity"], line["unit_amount"] * line["quantity"])
                for line in checkout.line_items
            )
    if charge.receipt_number is None:
        charge.receipt_number = new_receipt_number()
    return Receipt(
        charge_id=charge.id,
        receipt_number=charge.receipt_number,
        paid_at=charge.created_at,
        currency=charge.currency,
        amount=charge.amount_captured or charge.amount,
        amount_refunded=charge.amount_refunded,
        card_brand=method.brand if method is not None else "card",
        card_last4=method.last4 if method is not None else "????",
        description=charge.description,
        lines=lines,
        email=charge.receipt_email,
        url=receipt_url(call, charge.id),
    )


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("folio.payments", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def render_receipt_html(receipt: Receipt) -> str:
    """The receipt as a complete HTML page (also what the web app serves)."""
    return (
        _templates()
        .get_template("receipts/receipt.html")
        .render(receipt=receipt, format_amount=format_amount)
    )


def render_receipt_text(receipt: Receipt) -> str:
    """The receipt as plain text: the receipt mail's body."""
    lines = [
        f"Receipt #{receipt.receipt_number}",
        "",
        f"Amount paid: {receipt.amount_text}",
        f"Date paid: {receipt.paid_at:%Y-%m-%d %H:%M} UTC",
        f"Payment method: {receipt.card_brand.title()} ending in {receipt.card_last4}",
    ]
    if receipt.refunded_text is not None:
        lines.append(f"Refunded: {receipt.refunded_text}")
    if receipt.description:
        lines.append(f"Description: {receipt.description}")
    if receipt.lines:
        lines.append("")
        lines.extend(
            f"{line.quantity} x {line.description}: {format_amount(line.amount, receipt.currency)}"
            for line in receipt.lines
        )
    lines += ["", f"View it online: {receipt.url}", f"PDF: {receipt.url}?format=pdf", ""]
    return "\n".join(lines)


def _latin1(text: str) -> str:
    # The PDF's core font knows Latin-1 only: compose, then replace what is left outside it.
    return unicodedata.normalize("NFC", text).encode("latin-1", "replace").decode("latin-1")


def render_receipt_pdf(receipt: Receipt) -> bytes:
    """The receipt as a one-page PDF (fpdf2, a core font)."""
    from fpdf import FPDF  # a heavy import, needed only when a PDF is asked for

    pdf = FPDF(format=(148, 210))  # A5 in millimetres (the name "A5" warns of a fix in fpdf2 2.8.5)
    pdf.set_creation_date(receipt.paid_at)
    pdf.set_title(f"Receipt {receipt.receipt_number}")
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=16)
    pdf.cell(0, 10, f"Receipt #{receipt.receipt_number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    rows = [
        ("Amount paid", receipt.amount_text),
        ("Date paid", f"{receipt.paid_at:%Y-%m-%d %H:%M} UTC"),
        ("Payment method", f"{receipt.card_brand.title()} ending in {receipt.card_last4}"),
    ]
    if receipt.refunded_text is not None:
        rows.append(("Refunded", receipt.refunded_text))
    if receipt.description:
        rows.append(("Description", receipt.description))
    for label, value in rows:
        pdf.cell(40, 7, label)
        pdf.multi_cell(0, 7, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    if receipt.lines:
        pdf.ln(3)
        pdf.set_font("Helvetica", style="B", size=10)
        pdf.cell(0, 7, "Summary", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        for line in receipt.lines:
            pdf.cell(90, 7, _latin1(f"{line.quantity} x {line.description}"))
            pdf.cell(
                0, 7, format_amount(line.amount, receipt.currency), align="R", new_x="LMARGIN", new_y="NEXT"
            )
    pdf.ln(4)
    pdf.set_font("Helvetica", style="I", size=8)
    pdf.multi_cell(0, 5, f"Charge {receipt.charge_id}. Test mode: no money moved.")
    return bytes(pdf.output())


async def queue_receipt_mail(session: AsyncSession, call: Call, charge: Charge, *, recipient: str) -> Receipt:
    """Queue ``charge``'s receipt to ``recipient`` in the caller's unit of work (the mail outbox)."""
    receipt = await load_receipt(session, call, charge)
    await mail.queue_mail(
        session,
        recipient=recipient,
        subject=f"Your receipt #{receipt.receipt_number}",
        body=render_receipt_text(receipt),
        kind=MAIL_KIND,
    )
    return receipt
