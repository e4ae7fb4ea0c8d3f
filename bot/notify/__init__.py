"""Alerts: signed webhooks, Slack incoming webhooks and e-mail (no Rasa, no Flask).

    rules.py    the alerts file (GEHOOR_ALERTS_FILE): destinations, rules, retry, lead time
    events.py   which events a story save causes; jobs enqueued in the save's transaction
    signing.py  `Gehoor-Signature: t=<unix>,v1=<hex>` (HMAC-SHA256 over "<t>.<body>")
    senders.py  one send per kind: webhook, slack, email
    worker.py   claims due jobs, sends, records every attempt, backs off on failure
    cli.py      `gehoor notify check|work|list`

Design and configuration: docs/notifications.md.
"""
