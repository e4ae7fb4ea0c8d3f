"""Helpers shared by the review-app tests."""
from __future__ import annotations

import re

PASSWORD = "correct horse battery"
USERS = {
    "viewer": "vera.viewer@acme.example",
    "reviewer": "rob.reviewer@acme.example",
    "admin": "ada.admin@acme.example",
}
# Customer text that must render as text, never as markup.
XSS_SCRIPT = "<script>alert('xss-script')</script>"
XSS_IMG = '<img src=x onerror="alert(\'xss-img\')">'
XSS_LINK = '<a href="javascript:alert(\'xss-link\')">klik hier</a>'


def login(client, role_or_email: str, password: str = PASSWORD, **kw):
    email = USERS.get(role_or_email, role_or_email)
    return client.post("/login", data={"email": email, "password": password}, **kw)


def story_ids(html: str) -> list[int]:
    """Story ids of the inbox rows, in page order."""
    return [int(x) for x in re.findall(r'class="row-link" href="/stories/(\d+)', html)]


def csrf_token(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)
