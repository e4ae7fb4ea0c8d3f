"""`gehoor channels ...`: explicit, networked set-up steps for the messenger channels.

    gehoor channels telegram set-webhook [--url URL] [--drop-pending-updates]
    gehoor channels telegram delete-webhook
    gehoor channels telegram webhook-info
    gehoor channels status

Nothing here runs when Rasa starts: the channels themselves make no network call at
start-up, so Gehoor runs offline until an operator runs one of these commands.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
from typing import Any

ENV_BY_CHANNEL = {
    "socketio (website widget)": [],
    "rest (development only)": [],
    "rest_token": ["GEHOOR_REST_TOKEN"],
    "messenger": ["GEHOOR_MESSENGER_VERIFY_TOKEN", "GEHOOR_MESSENGER_APP_SECRET", "GEHOOR_MESSENGER_PAGE_ACCESS_TOKEN"],
    "telegram": ["GEHOOR_TELEGRAM_TOKEN", "GEHOOR_TELEGRAM_SECRET_TOKEN"],
    "slack": ["GEHOOR_SLACK_TOKEN", "GEHOOR_SLACK_SIGNING_SECRET"],
    "twilio": ["GEHOOR_TWILIO_ACCOUNT_SID", "GEHOOR_TWILIO_AUTH_TOKEN", "GEHOOR_TWILIO_NUMBER"],
}


def _telegram() -> Any:
    from bot.channels.telegram import TelegramInput  # imports Rasa: only when asked

    return TelegramInput.from_credentials(None)


def _run(coro: Any) -> int:
    try:
        result = asyncio.run(coro)
    except RuntimeError as exc:  # the Bot API said no
        raise ValueError(str(exc)) from exc
    except OSError as exc:  # includes aiohttp connection errors
        raise ValueError(f"could not reach the Telegram Bot API: {exc}") from exc
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def _set_webhook(args: argparse.Namespace) -> int:
    channel = _telegram()
    return _run(channel.set_webhook(args.url, drop_pending_updates=args.drop_pending_updates))


def _delete_webhook(args: argparse.Namespace) -> int:
    return _run(_telegram().delete_webhook())


def _webhook_info(args: argparse.Namespace) -> int:
    return _run(_telegram().webhook_info())


def _status(args: argparse.Namespace) -> int:
    for channel, names in ENV_BY_CHANNEL.items():
        missing = [name for name in names if not os.environ.get(name, "").strip()]
        state = "enabled" if not missing else "disabled (set " + ", ".join(missing) + ")"
        print(f"{channel:28} {state}")
    return 0


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    channels = subparsers.add_parser("channels", help="messenger channel set-up (webhooks, status)")
    channel_sub = channels.add_subparsers(dest="channels_command", metavar="CHANNEL")
    channel_sub.required = True

    status = channel_sub.add_parser("status", help="which channels are enabled by the environment")
    status.set_defaults(func=_status)

    telegram = channel_sub.add_parser("telegram", help="Telegram Bot API webhook")
    telegram_sub = telegram.add_subparsers(dest="telegram_command", metavar="ACTION")
    telegram_sub.required = True
    set_webhook = telegram_sub.add_parser(
        "set-webhook", help="register the webhook URL and secret token with Telegram"
    )
    set_webhook.add_argument(
        "--url", help="public https URL of /webhooks/telegram/webhook (default: GEHOOR_TELEGRAM_WEBHOOK_URL)"
    )
    set_webhook.add_argument(
        "--drop-pending-updates", action="store_true", help="discard updates Telegram queued while no webhook was set"
    )
    set_webhook.set_defaults(func=_set_webhook)
    delete = telegram_sub.add_parser("delete-webhook", help="remove the webhook at Telegram")
    delete.set_defaults(func=_delete_webhook)
    info = telegram_sub.add_parser("webhook-info", help="show Telegram's view of the webhook (pending updates, last error)")
    info.set_defaults(func=_webhook_info)
