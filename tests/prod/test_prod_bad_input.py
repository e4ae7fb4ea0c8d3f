"""Bad input through nginx into the production profile: random Unicode (hypothesis), 100 KB
messages, empty and whitespace messages, malformed JSON, wrong content types, intent
injection, HTML/SQL-looking text. Never a 5xx, and every message Rasa accepted is in the
stored story, in order (as the store keeps it: bot/store/textsafe.clean_text)."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.ops.loadgen import stored_stories, wait_for_stories
from bot.store.textsafe import clean_text


def post(stack, body: bytes, content_type: str = "application/json", sender: str = "", timeout: float = 120):
    headers = {"Content-Type": content_type}
    if sender:
        headers["X-Gehoor-Sender"] = sender
    request = urllib.request.Request(f"{stack.url}/webhooks/rest/webhook", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def say(stack, sender: str, text: str):
    return post(stack, json.dumps({"sender": sender, "message": text}).encode(), sender=sender)


def customer_messages(stack, sender: str, expected=None):
    """The newest story's customer messages, once they equal `expected` (polled: the story
    is written after the answer) or after the timeout."""
    story = wait_for_stories(stack.db_url, {sender: expected if expected is not None else ["\0never"]},
                             timeout=30 if expected is not None else 3).get(sender)
    return story["customer"] if story else []


def poll(fetch, done, timeout: float = 30.0):
    """fetch() until done(value) or the timeout (stories are written after the answer)."""
    deadline = time.monotonic() + timeout
    value = fetch()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.5)
        value = fetch()
    return value


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# Text Rasa treats as a message (not "/intent" syntax), of any Unicode, incl. NUL and
# surrogate-free control characters.
message_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300).filter(
    lambda t: t.strip() and not t.lstrip().startswith("/"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(texts=st.lists(message_text, min_size=1, max_size=3))
def test_random_unicode_is_answered_and_stored(prod_stack, texts):
    sender = fresh("uni")
    for text in texts:
        status, body = say(prod_stack, sender, text)
        assert status == 200, (status, body[:300])
        assert isinstance(json.loads(body), list)
    # Rasa strips surrounding whitespace from a message (UserMessage); the store cleans the rest.
    expected = [clean_text(t.strip()) for t in texts]
    assert customer_messages(prod_stack, sender, expected) == expected


def test_100_kb_message(prod_stack):
    sender = fresh("big")
    assert say(prod_stack, sender, "hoi")[0] == 200
    big = ("De levering was te laat en niemand belde terug. " * 2200)[:100_000]
    status, body = say(prod_stack, sender, big)
    assert status == 200, body[:300]
    assert say(prod_stack, sender, "8")[0] == 200, "the conversation goes on"
    expected = ["hoi", clean_text(big.strip()), "8"]  # Rasa strips; the store truncates (documented)
    stored = customer_messages(prod_stack, sender, expected)
    assert stored == expected, [t[:40] for t in stored]


def test_body_over_the_limit_is_refused_by_nginx_not_a_5xx(prod_stack):
    status, _ = say(prod_stack, fresh("huge"), "x" * 1_100_000)
    assert status == 413


@pytest.mark.parametrize("text", ["", " ", "\n\t "])
def test_empty_and_blank_messages(prod_stack, text):
    sender = fresh("empty")
    status, body = say(prod_stack, sender, text)
    assert status < 500, body[:300]
    assert say(prod_stack, sender, "hoi")[0] == 200
    story = poll(lambda: stored_stories(prod_stack.db_url, [sender]).get(sender),
                 lambda st: st is not None and st["customer"][-1:] == ["hoi"])
    assert story is not None and story["customer"][-1] == "hoi", story
    assert story["customer"] in (["hoi"], [text.strip(), "hoi"]), story


@pytest.mark.parametrize("body", [b"{", b"not json", b'{"sender": 5}', b'{"message": "hoi"}',
                                  b'{"sender": "x", "message": {"a": 1}}', b"\xff\xfe\x00", b""])
def test_malformed_json(prod_stack, body):
    status, answer = post(prod_stack, body)
    assert status < 500, (status, answer[:300])


# Rasa 3.6's plain `rest` handler answered these with 500; bot/channels/rest_dev.py checks the body first (400).
@pytest.mark.parametrize("body", [b"[]", b'[{"sender": "x", "message": "hoi"}]', b'"hoi"', b"null", b"5"])
def test_json_non_object_body_plain_rest_channel(prod_stack, body):
    status, answer = post(prod_stack, body)
    assert status == 400, (status, answer[:300])


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          "application/xml"])
def test_wrong_content_types(prod_stack, content_type):
    sender = fresh("ctype")
    status, answer = post(prod_stack, json.dumps({"sender": sender, "message": "hoi"}).encode(), content_type,
                          sender=sender)
    assert status < 500, (status, answer[:300])
    if status == 200:  # Rasa parsed it as JSON after all: then it must be stored like any message
        assert customer_messages(prod_stack, sender, ["hoi"]) == ["hoi"]


@pytest.mark.parametrize("text", ['/give_score{"score": 99}', '/inform{"answer_reason": "hacked"}',
                                  '/restart', '/session_start', '/nlu_fallback{"x": 1}', '/give_score{"score": "<b>"}'])
def test_intent_injection(prod_stack, text):
    sender = fresh("inject")
    assert say(prod_stack, sender, "hoi")[0] == 200
    status, body = say(prod_stack, sender, text)
    assert status < 500, body[:300]
    assert say(prod_stack, sender, "dat was het")[0] == 200
    stored = poll(lambda: stored_stories(prod_stack.db_url, [sender]).get(sender),
                  lambda st: st is not None and st["all_customer"][-1:] == ["dat was het"])
    # /restart and /session_start begin a new session (a new story); nothing is lost.
    said = stored["all_customer"]
    assert said[0] == "hoi" and said[-1] == "dat was het" and said.count("hoi") == 1, said


@pytest.mark.parametrize("text", [
    "<script>alert('x')</script>", "'; DROP TABLE stories; --", "\" OR 1=1 --", "<img src=x onerror=alert(1)>",
    "{{7*7}} ${7*7} %s %n", "Robert'); DROP TABLE messages;--", "../../etc/passwd", "\u202eevil\u202c",
])
def test_html_and_sql_looking_text_is_stored_verbatim(prod_stack, text):
    sender = fresh("html")
    assert say(prod_stack, sender, "hoi")[0] == 200
    status, body = say(prod_stack, sender, text)
    assert status == 200, body[:300]
    # Not every turn stores the story (e.g. a form re-asking); the next one that does must
    # bring everything, in order.
    assert say(prod_stack, sender, "8")[0] == 200
    expected = ["hoi", text, "8"]
    assert customer_messages(prod_stack, sender, expected) == expected
