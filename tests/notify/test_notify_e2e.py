"""A real conversation (REST channel, Rasa server, action server, story store) that ends in a
hand-off fires the configured alerts: the action server's notification thread delivers a
signed webhook (checked by the receiver), a Slack message and an e-mail (aiosmtpd)."""
from __future__ import annotations

import time
import uuid

import pytest
import yaml

from notify_helpers import SECRET

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def alerting_stack(tmp_path_factory):
    from notify_helpers import Mailbox, Receiver

    from aiosmtpd.controller import Controller

    from services import free_port
    from tests_conftest_bridge import running_stack

    webhook, slack, mailbox = Receiver(secret=SECRET), Receiver(slack=True), Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    folder = tmp_path_factory.mktemp("alerts")
    path = folder / "alerts.yml"
    path.write_text(yaml.safe_dump({
        "destinations": {"crm": {"type": "webhook", "url": webhook.url, "secret": SECRET},
                         "cx-slack": {"type": "slack", "url": slack.url},
                         "cx-mail": {"type": "email", "to": ["cx@acme.example"]}},
        "smtp": {"host": "127.0.0.1", "port": smtp.port, "from": "gehoor@acme.example"},
        "rules": [{"to": ["crm"]}, {"moments": ["handoff", "consent", "detractor"], "to": ["cx-slack", "cx-mail"]}],
    }), encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("GEHOOR_ALERTS_FILE", str(path))
    mp.setenv("GEHOOR_REVIEW_URL", "https://review.acme.example")
    try:
        with running_stack(tmp_path_factory.mktemp("var")) as stack:
            yield stack, webhook, slack, mailbox
    finally:
        mp.undo()
        smtp.stop()
        webhook.close()
        slack.close()


def wait_for(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_a_hand_off_in_a_real_conversation_fires_every_alert(alerting_stack):
    stack, webhook, slack, mailbox = alerting_stack
    who = f"nl-alert-{uuid.uuid4().hex[:8]}"
    stack.say(who, "hoi")
    stack.say(who, "ik wil een medewerker spreken")
    stack.say(who, "bel me op 06 12345678")
    story = stack.story(who)
    assert story.handoff_requested is True

    def handoff_event():
        return [r for r in webhook.ok() if "handoff" in r["json"]["moments"]
                and r["json"]["data"]["story"]["reference"] == story.reference]

    assert wait_for(handoff_event), [r["json"]["type"] for r in webhook.requests]
    assert all(r["verified"] for r in webhook.requests)
    assert {r["json"]["type"] for r in webhook.ok()} >= {"story.created"}
    assert wait_for(lambda: any("asked for a person" in r["json"]["text"] for r in slack.ok()))
    assert f"/stories/{story.id}|Open {story.reference}>" in slack.ok()[-1]["json"]["text"]
    assert wait_for(lambda: any(story.reference in m["Subject"] for _rcpt, m in mailbox.messages))
