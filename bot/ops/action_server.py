"""The action server with Gehoor's plugin (/ready, /metrics): `python -m bot.ops.action_server
--actions actions --port 5055` takes the same arguments as `rasa run actions`.

Only the Rasa servers call it, never a browser, so it sends no CORS headers: rasa_sdk puts
sanic-cors middleware on every request (~0.1 ms per action call, both ways) and `--cors`
is accepted but has no effect here.
"""
from __future__ import annotations

import os
import sys


def _no_cors(app, cors_origins) -> None:  # noqa: ANN001, ARG001  (see the module docstring)
    return None


def main(argv=None) -> None:
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    import rasa_sdk.endpoint
    from rasa_sdk.__main__ import main_from_args
    from rasa_sdk.endpoint import create_argument_parser
    from rasa_sdk.plugin import plugin_manager

    from bot.ops import action_plugin

    rasa_sdk.endpoint.configure_cors = _no_cors
    manager = plugin_manager()
    if not manager.is_registered(action_plugin):
        manager.register(action_plugin)
    main_from_args(create_argument_parser().parse_args(argv if argv is not None else sys.argv[1:]))


if __name__ == "__main__":
    main()
