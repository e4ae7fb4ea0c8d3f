"""Rasa input channels for Gehoor (with actions/ and bot/rasa_patches/, the only packages
that import Rasa).

* ``bot.channels.socketio.SocketIOInput`` — the website widget (Rasa's socket.io channel, hardened)
* ``bot.channels.rest_token.TokenRestInput`` — REST with a bearer token
* ``bot.channels.messenger.MessengerInput`` — Facebook Messenger
* ``bot.channels.telegram.TelegramInput`` — Telegram (no network at start-up)
* ``bot.channels.slack.SlackInput`` — Rasa's Slack connector, configured from the environment
* ``bot.channels.twilio.TwilioInput`` — Rasa's Twilio connector plus X-Twilio-Signature checks

See docs/channels.md. Import the submodules directly: importing this package does nothing
(Gehoor's Rasa patches are installed at the Rasa server's start-up, bot/rasa_patches/).
"""
