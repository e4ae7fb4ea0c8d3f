"""bot.contact.parse_contact: e-mail and phone numbers, inside sentences too."""
import pytest

from bot.contact import Contact, InvalidContact, parse_contact


@pytest.mark.parametrize("text, kind, value", [
    ("jan@example.nl", "email", "jan@example.nl"),
    ("mail me op jan@example.nl", "email", "jan@example.nl"),
    ("mijn mail is Jan.de.Vries@Example.NL.", "email", "Jan.de.Vries@example.nl"),
    ("you can reach me at anna+gehoor@mail.co.uk, thanks", "email", "anna+gehoor@mail.co.uk"),
    ("06 12345678", "phone", "+31612345678"),
    ("06-12345678", "phone", "+31612345678"),
    ("+31 6 12345678", "phone", "+31612345678"),
    ("0031 6 12345678", "phone", "+31612345678"),
    ("0031612345678", "phone", "+31612345678"),
    ("020 123 4567", "phone", "+31201234567"),
    ("+44 20 7946 0018", "phone", "+442079460018"),
    ("bel me maar op 06 12345678 na vijven", "phone", "+31612345678"),
    ("call me on +44 20 7946 0018 please", "phone", "+442079460018"),
])
def test_valid(text, kind, value):
    assert parse_contact(text) == Contact(kind, value)


def test_default_region():
    assert parse_contact("020 7946 0018", default_region="GB") == Contact("phone", "+442079460018")


@pytest.mark.parametrize("text", ["", "   ", "hallo", "jan@", "jan@@example.nl", "@example.nl",
                                  "12345", "06 123", "+31 6 1234", "jan at example dot nl",
                                  "0612345678901234"])
def test_invalid(text):
    with pytest.raises(InvalidContact) as exc:
        parse_contact(text)
    assert exc.value.message
