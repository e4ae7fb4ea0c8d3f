"""Rasa input channels for Gehoor (the only package besides actions/ that imports Rasa).

* ``bot.channels.socketio.SocketIOInput`` — the website widget (Rasa's socket.io channel, hardened)
* ``bot.channels.rest_token.TokenRestInput`` — REST with a bearer token
* ``bot.channels.messenger.MessengerInput`` — Facebook Messenger
* ``bot.channels.telegram.TelegramInput`` — Telegram (no network at start-up)
* ``bot.channels.slack.SlackInput`` — Rasa's Slack connector, configured from the environment
* ``bot.channels.twilio.TwilioInput`` — Rasa's Twilio connector plus X-Twilio-Signature checks

See docs/channels.md. Import the submodules directly.

Rasa imports this package when it reads credentials.yml, which is where Gehoor installs its
fix for Rasa's per-response schema re-check (bot/channels/rasa_speedups.py).
"""
from bot.channels.rasa_speedups import install as _install_speedups

_install_speedups()
