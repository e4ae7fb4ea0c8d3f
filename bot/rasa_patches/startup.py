"""Where the Rasa server installs Gehoor's patches: the first "channel" in credentials.yml.

Rasa builds the input channels of credentials.yml when the server starts, before it loads
the model or the tracker store; this one's `from_credentials` calls
`bot.rasa_patches.install()`. It receives no messages: its one route,
`GET /webhooks/rasa_patches/`, says which patches are active (`{"rasa": "3.6.21",
"patches": [...]}`), so a test or an operator can see whether a server runs stock Rasa.
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Optional, Text

import rasa
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

import bot.rasa_patches


class RasaPatches(InputChannel):
    """Installs the patches when Rasa builds it; reports them at GET /webhooks/rasa_patches/."""

    @classmethod
    def name(cls) -> Text:
        return "rasa_patches"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        bot.rasa_patches.install()
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        routes = Blueprint("gehoor_rasa_patches", __name__)

        @routes.route("/", methods=["GET"])
        async def status(request: Request) -> HTTPResponse:
            return response.json({"rasa": rasa.__version__, "patches": bot.rasa_patches.active()})

        return routes
