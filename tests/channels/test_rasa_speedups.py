"""The compiled action-response validator accepts and rejects exactly what Rasa's own does."""
import pytest
from jsonschema import ValidationError, validate

import bot.channels  # noqa: F401  (installs the speed-up)
from rasa.core.actions.action import RemoteAction

VALID = {"events": [{"event": "slot", "name": "language", "value": "nl", "timestamp": None}],
         "responses": [{"text": "Hoi", "buttons": [{"title": "0", "payload": "0"}]}]}
INVALID = [
    {"events": [{"event": "slot"}]},                       # slot event without a name
    {"events": "not a list"},
    {"events": [{"name": "x"}]},                            # event without a type
]


def test_the_speedup_is_installed():
    assert getattr(RemoteAction._validate_action_result, "gehoor_speedup", False)


def test_valid_response_passes():
    validate(VALID, RemoteAction.action_response_format_spec())  # Rasa's own check agrees
    assert RemoteAction(name="x", action_endpoint=None)._validate_action_result(VALID) is True


@pytest.mark.parametrize("response", INVALID)
def test_invalid_response_fails_like_rasas_own_check(response):
    with pytest.raises(ValidationError):
        validate(response, RemoteAction.action_response_format_spec())
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        RemoteAction(name="x", action_endpoint=None)._validate_action_result(response)
