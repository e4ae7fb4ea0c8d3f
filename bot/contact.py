"""Parsing and validating a customer's contact details (e-mail address or phone number).

``parse_contact("mail me op jan@example.nl")`` -> Contact("email", "jan@example.nl")
``parse_contact("06 12345678")`` -> Contact("phone", "+31612345678") (E.164)
Invalid input raises ``InvalidContact`` with an (English) explanation for logs; the bot
shows the catalogue text ``contact_invalid`` to the customer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email

__all__ = ["Contact", "InvalidContact", "parse_contact"]

_EMAIL_CANDIDATE = re.compile(r"[^\s<>()\[\],;:\"']+@[^\s<>()\[\],;:\"']+")
_MAILTO = re.compile(r"^mailto:", re.IGNORECASE)


@dataclass(frozen=True)
class Contact:
    kind: str  # "email" | "phone"
    value: str  # normalised: e-mail as validated, phone in E.164


class InvalidContact(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _email(text: str) -> Contact | None:
    m = _EMAIL_CANDIDATE.search(text)
    if not m:
        return None
    candidate = _MAILTO.sub("", m.group(0)).rstrip(".!?")
    try:
        info = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidContact(f"not a valid e-mail address: {exc}") from None
    return Contact("email", info.normalized)


def _phone(text: str, region: str) -> Contact | None:
    # "0031 6 ..." is the Dutch way of writing +31; phonenumbers knows the IDD prefix 00.
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
        number = match.number
        return Contact("phone", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    # whole-text fallback (e.g. unusual separators)
    digits = re.sub(r"[^\d+]", "", text)
    if len(re.sub(r"\D", "", digits)) < 6:
        return None
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_valid_number(number):
        return Contact("phone", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return None


def parse_contact(text: str, default_region: str = "NL") -> Contact:
    """Find and validate an e-mail address or phone number in ``text``."""
    if not text or not text.strip():
        raise InvalidContact("empty: expected an e-mail address or a phone number")
    if "@" in text:
        contact = _email(text)
        if contact is not None:
            return contact
        raise InvalidContact("not a valid e-mail address: expected e.g. name@example.nl")
    contact = _phone(text, default_region)
    if contact is not None:
        return contact
    if sum(c.isdigit() for c in text) >= 6:
        raise InvalidContact("not a valid phone number: expected e.g. 06 12345678 or +31 6 12345678")
    raise InvalidContact("no e-mail address or phone number found: expected e.g. "
                         "name@example.nl or 06 12345678")
