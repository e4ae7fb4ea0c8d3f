"""A performance fix for Rasa 3.6, installed when Rasa loads Gehoor's channels.

Rasa validates every action-server response with `jsonschema.validate(result, schema)`,
which first re-checks the *schema itself* against the draft 2020-12 meta-schema — on every
call. Profiling a Gehoor turn (two action calls: form validation and the next question)
showed ~75 % of the Rasa server's CPU in that re-check. Here the schema is checked once and
the compiled validator reused: every response is still validated, with the same errors.
"""
from __future__ import annotations

from typing import Any, Dict, Text


def install() -> None:
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    if getattr(RemoteAction._validate_action_result, "gehoor_speedup", False):
        return
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    _validate_action_result.gehoor_speedup = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result
