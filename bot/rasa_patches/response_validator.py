"""Speed-up: Rasa's check of each action-server response.

Replaces `rasa.core.actions.action.RemoteAction._validate_action_result` (Rasa 3.6.21).
Rasa calls `jsonschema.validate(result, schema)`, which re-checks the *schema itself*
against the 2020-12 meta-schema on every call and then tries a 23-way `oneOf` per event
(~75 % of the Rasa server's CPU at first, ~1.8 ms per response). Here the schema is checked
once; each event is checked against its own branch only, compiled with fastjsonschema
(132 -> 24 us per response, docs/benchmarks.md). Anything that fails that check goes
through the full jsonschema validator, which raises Rasa's own error.
"""
from __future__ import annotations

from typing import Any, Dict, Text

import fastjsonschema
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

from bot.rasa_patches import PatchDoesNotFit, is_patched, mark

REPLACES = "rasa.core.actions.action.RemoteAction._validate_action_result"
GAIN = "~1.8 ms per action call (jsonschema.validate) -> 24 us"


def install() -> None:
    if is_patched(RemoteAction._validate_action_result):
        return
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    is_valid = fast_response_check(schema)
    original = RemoteAction._validate_action_result

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        if is_valid(result):
            return True
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = mark(_validate_action_result, original)  # type: ignore[method-assign]


def fast_response_check(schema: Dict[Text, Any]) -> Any:
    """A yes/no check equal to the full schema, without its 23-way `oneOf` per event.

    Each event schema in Rasa's `oneOf` is told apart by `{"event": {"const": ...}}` and the
    base schema requires "event", so an event passes the `oneOf` exactly when it passes the
    base schema and the one branch whose const is its type. The parts are compiled with
    fastjsonschema (they use only keywords that mean the same in its drafts and in the
    2020-12 draft jsonschema applies). Raises PatchDoesNotFit for any other schema shape.
    """
    events_schema = schema["properties"]["events"]
    event_schema = events_schema["items"]
    base_event = {k: v for k, v in event_schema.items() if k != "oneOf"}
    branches = event_schema["oneOf"]
    if events_schema.get("type") != "array" or set(events_schema) != {"type", "items"} \
            or len({branch["properties"]["event"]["const"] for branch in branches}) != len(branches) \
            or not _only_keywords(schema, _DRAFT_NEUTRAL_KEYWORDS):
        raise PatchDoesNotFit("Rasa's action-response schema is not the one the compiled check was written for")
    by_type = {branch["properties"]["event"]["const"]: _compiled(branch) for branch in branches}
    envelope = _compiled(dict(schema, properties=dict(schema["properties"], events={"type": "array"})))
    base = _compiled(base_event)

    def is_valid(result: Any) -> bool:
        if not envelope(result):
            return False
        for event in result.get("events") or ():
            kind = event.get("event") if isinstance(event, dict) else None
            branch = by_type.get(kind) if isinstance(kind, str) else None
            if branch is None or not base(event) or not branch(event):
                return False
        return True

    return is_valid


_DRAFT_NEUTRAL_KEYWORDS = {"type", "properties", "required", "const", "items", "oneOf", "patternProperties"}


def _only_keywords(schema: Any, allowed: set, under_properties: bool = False) -> bool:
    if isinstance(schema, list):
        return all(_only_keywords(item, allowed) for item in schema)
    if not isinstance(schema, dict):
        return True
    if under_properties:  # keys are property names (or patterns), values are schemas
        return all(_only_keywords(value, allowed) for value in schema.values())
    return all(key in allowed and _only_keywords(value, allowed, key in ("properties", "patternProperties"))
               for key, value in schema.items() if key != "type")


def _compiled(schema: Dict[Text, Any]) -> Any:
    validate = fastjsonschema.compile(schema)

    def passes(value: Any) -> bool:
        try:
            validate(value)
            return True
        except fastjsonschema.JsonSchemaException:
            return False

    return passes
