"""Feature (changes behaviour): an action call cut off by a closed keep-alive connection is
sent once more.

Replaces `rasa.utils.endpoints.EndpointConfig.request` (Rasa 3.6.21). With pooled
connections (`pooled_sessions`) a request can go out on a connection the server (nginx on a
reload or restart, an action server going away) closes at that moment; stock Rasa fails the
turn. Here a request that fails with `ServerDisconnectedError` or `ClientOSError` is sent
once more on a fresh connection, with a warning in the log. This is safe only because every
Gehoor action can be repeated (the story write is an idempotent upsert; nginx's own retry of
a cut-off action call already assumes it, docs/deploy.md). It applies to every
EndpointConfig request of the Rasa server, so a new non-repeatable custom action, or an
endpoint that is not idempotent, must be reviewed against it (docs/architecture.md).
"""
from __future__ import annotations

import logging
from typing import Any

import aiohttp
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_patches import is_patched, mark

logger = logging.getLogger(__name__)

REPLACES = "rasa.utils.endpoints.EndpointConfig.request"
GAIN = "correctness: no failed turn when a pooled connection is closed as it is reused"


def install() -> None:
    original = EndpointConfig.request
    if is_patched(original):
        return

    async def request(self: EndpointConfig, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original(self, *args, **dict(kwargs))
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            logger.warning("%s: connection closed by the server (%s); sending once more", self.url, exc)
            return await original(self, *args, **dict(kwargs))

    EndpointConfig.request = mark(request, original)  # type: ignore[method-assign]
