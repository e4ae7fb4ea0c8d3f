"""A Rasa-free stand-in server for the widget's fast browser test and for trying the widget
by hand: Gehoor's real socket.io channel (bot.channels.socketio) on Sanic, with a small
scripted bot instead of Rasa's agent. Every UserMessage is appended to a JSON-lines file.

    python tests/channels/widget_fake_server.py --port 5005 --log /tmp/messages.jsonl
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from rasa.core.channels.channel import UserMessage  # noqa: E402
from sanic import Sanic, response  # noqa: E402

from bot.channels.socketio import SocketIOInput  # noqa: E402

SCORE = [{"title": str(i), "payload": str(i)} for i in range(11)]
YES_NO = [{"title": "Ja", "payload": "ja"}, {"title": "Nee", "payload": "nee"}]


def script(state: dict, text: str) -> dict:
    step = state.get("step", 0)
    if step == 0:
        state["step"] = 1
        return {"text": "Hoi! Ik ben de feedbackbot van Acme. Ik wil graag horen hoe het ging — dat duurt "
                        "2 à 3 minuten en je kunt altijd stoppen.\n\nHoe waarschijnlijk is het dat je ons "
                        "aanbeveelt, op een schaal van 0 tot 10?", "buttons": SCORE}
    if step == 1 and re.fullmatch(r"\s*(10|[0-9])\s*", text):
        state.update(step=2, score=text.strip())
        return {"text": f"Dank je. Wat is de belangrijkste reden voor je {text.strip()}?"}
    if step == 2:
        state["step"] = 3
        return {"text": f"Ik wil zeker weten dat ik je goed begrijp: \u201c{text.strip()}\u201d. Klopt dat?",
                "buttons": YES_NO}
    if step == 3:
        state["step"] = 4
        return {"text": "Dank je wel! Mensen van Acme lezen je verhaal. Je referentie is GH-7K2M."}
    return {"text": "Dank je, ik heb het genoteerd."}


def build_app(log_path: Path, allowed_origins: str = "", jwt_key: str = "", fail_once: str = "",
              max_chars: int = 4000, per_minute: int = 30) -> Sanic:
    app = Sanic("gehoor_widget_fake")
    channel = SocketIOInput.from_credentials(
        {"session_persistence": True, "metadata_key": "customData", "allowed_origins": allowed_origins,
         "jwt_key": jwt_key or None, "max_message_chars": max_chars, "max_messages_per_minute": per_minute}
    )
    states: dict = {}
    failed: set = set()

    async def on_new_message(message: UserMessage) -> None:
        if fail_once and message.text == fail_once and fail_once not in failed:
            failed.add(fail_once)  # like Rasa when its lock store is briefly down
            raise ConnectionError("lock store unavailable (scripted)")
        with log_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"sender_id": message.sender_id, "text": message.text,
                                "input_channel": message.input_channel, "metadata": message.metadata}) + "\n")
        reply = script(states.setdefault(message.sender_id, {}), message.text or "")
        await message.output_channel.send_response(message.sender_id, reply)

    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/socketio")

    @app.route("/")
    async def health(_):
        return response.text("fake rasa")

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=5005)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--origins", default="")
    parser.add_argument("--jwt-key", default="")
    parser.add_argument("--fail-once", default="", help="the first message with this text raises")
    parser.add_argument("--max-chars", type=int, default=4000)
    parser.add_argument("--per-minute", type=int, default=30)
    args = parser.parse_args()
    build_app(args.log, args.origins, args.jwt_key, args.fail_once, args.max_chars, args.per_minute).run(host="127.0.0.1", port=args.port, access_log=False)


if __name__ == "__main__":
    main()
