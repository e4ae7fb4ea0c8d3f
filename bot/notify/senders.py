"""One send per destination kind. Each returns a Sent or raises DeliveryError; none retries
(the worker does, durably). Slack and e-mail carry no contact details and redact personal
data in the customer's words: they reach a wider audience than the review app."""
from __future__ import annotations

import json
import os
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Optional

import requests

from bot.notify import signing
from bot.notify.rules import Alerts, Destination

USER_AGENT = "Gehoor-Notify/1"
MOMENT_LABELS = {
    "detractor": "new detractor", "handoff": "asked for a person", "consent": "agreed to be contacted",
    "repeat_contact": "repeat contact", "follow_up_due": "follow-up about to breach its SLA",
}
EVENT_LABELS = {
    "story.created": "New story", "story.updated": "Story updated", "story.completed": "Story completed",
    "follow_up.due": "Follow-up due",
}


@dataclass
class Sent:
    status: Optional[int] = None
    note: Optional[str] = None  # delivered, but worth a line in the log (e.g. one recipient refused)


class DeliveryError(Exception):
    def __init__(self, message: str, status: Optional[int] = None, permanent: bool = False):
        super().__init__(message)
        self.status, self.permanent = status, permanent


def body_of(payload: dict) -> bytes:
    """The exact bytes that are signed and sent (stable: same job, same body)."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _post(url: str, data: bytes, headers: dict, timeout: float) -> Sent:
    try:
        response = requests.post(url, data=data, headers={"User-Agent": USER_AGENT, **headers},
                                 timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        raise DeliveryError(f"{type(exc).__name__}: {str(exc)[:300]}") from exc
    if 200 <= response.status_code < 300:
        return Sent(response.status_code)
    # 410 Gone: the receiver says this endpoint will never accept it again (Slack: revoked hook too)
    permanent = response.status_code in (404, 410) or response.text.strip() in ("invalid_token", "no_service")
    raise DeliveryError(f"HTTP {response.status_code}: {response.text[:200]}", response.status_code, permanent)


def send_webhook(dest: Destination, alerts: Alerts, job_id: int, payload: dict, now: Optional[float] = None) -> Sent:
    body = body_of(payload)
    headers = {
        "Content-Type": "application/json",
        signing.HEADER: signing.header_value(dest.resolved_secret(), body, int(now if now is not None else time.time())),
        "Gehoor-Event": payload.get("type", ""),
        "Gehoor-Delivery": str(job_id),  # the same on every retry: receivers can drop duplicates
    }
    return _post(dest.resolved_url(), body, headers, alerts.timeout_seconds)


def _short(text: Optional[str], language: str, limit: int = 280) -> str:
    from bot.store.redact import redact_text

    text = redact_text((text or "").strip(), language or "nl")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def headline(payload: dict) -> str:
    story = payload["data"]["story"]
    score = "no score" if story["score"] is None else f"score {story['score']}"
    moments = ", ".join(MOMENT_LABELS.get(m, m) for m in payload.get("moments") or [])
    label = EVENT_LABELS.get(payload["type"], payload["type"])
    return f"{label} {story['reference']} ({score}, {story['band']})" + (f": {moments}" if moments else "")


def text_of(payload: dict) -> str:
    story = payload["data"]["story"]
    lines = [headline(payload)]
    said = story.get("correction") or story.get("summary") or story.get("reason")
    if said:
        lines.append(f"“{_short(said, story.get('language'))}”")
    if story.get("aspects"):
        lines.append("Aspects: " + ", ".join(story["aspects"]))
    due = (story.get("follow_up") or {}).get("due_at")
    if due and story["follow_up"]["state"] in ("open", "contacted"):
        lines.append(f"Follow-up due {due} (owner: {story['follow_up'].get('assignee') or 'nobody yet'})")
    lines.append(story["url"])
    return "\n".join(lines)


def slack_escape(text: str) -> str:
    """Slack's mrkdwn control characters (api.slack.com, "Escaping text"): a customer's `<url|…>`
    or `<!channel>` stays text instead of becoming a link or a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def send_slack(dest: Destination, alerts: Alerts, job_id: int, payload: dict) -> Sent:
    story = payload["data"]["story"]
    text = slack_escape(text_of(payload)).replace(slack_escape(story["url"]),
                                                  f"<{story['url']}|Open {story['reference']}>")
    body = json.dumps({"text": text}, ensure_ascii=False).encode("utf-8")
    return _post(dest.resolved_url(), body, {"Content-Type": "application/json"}, alerts.timeout_seconds)


def send_email(dest: Destination, alerts: Alerts, job_id: int, payload: dict) -> Sent:
    smtp = alerts.smtp
    msg = EmailMessage()
    msg["Subject"] = "[Gehoor] " + headline(payload)
    msg["From"] = smtp.sender
    msg["To"] = ", ".join(dest.to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(idstring=f"gehoor-{job_id}")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text_of(payload) + "\n\n— Gehoor\n")
    client_class = smtplib.SMTP_SSL if smtp.ssl else smtplib.SMTP
    try:
        with client_class(smtp.host, smtp.port, timeout=smtp.timeout) as client:
            if smtp.starttls and not smtp.ssl:
                client.starttls()
            if smtp.username:
                client.login(smtp.username, os.environ.get(smtp.password_env or "", ""))
            refused = client.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"recipients refused: {sorted(exc.recipients)}", 550, permanent=True) from exc
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"[:300], exc.smtp_code,
                            permanent=500 <= exc.smtp_code < 600 and exc.smtp_code != 554) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {str(exc)[:300]}") from exc
    if refused:  # some recipients refused, others accepted: delivered, say who was not
        return Sent(250, f"refused by the server: {', '.join(sorted(refused))}")
    return Sent(250)


SENDERS = {"webhook": send_webhook, "slack": send_slack, "email": send_email}
