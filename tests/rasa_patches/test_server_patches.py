"""The real Rasa server (started as `make run` does, with credentials.yml) installs the
patches at start-up, or none with GEHOOR_RASA_PATCHES=off (the switch is passed on to the
stack's processes through the environment), and logs one line naming them."""
import json
import urllib.request

import pytest

from bot import config
from bot.rasa_patches import PATCHES

pytestmark = pytest.mark.integration


def test_the_rasa_server_reports_the_patches_the_switch_asks_for(gehoor_stack):
    with urllib.request.urlopen(f"{gehoor_stack.rasa_url}/webhooks/rasa_patches/", timeout=10) as response:
        status = json.loads(response.read())
    expected = list(PATCHES) if config.rasa_patches_enabled() else []
    assert status == {"rasa": "3.6.21", "patches": expected}
    log = (gehoor_stack.var_dir / "log" / "rasa.log").read_text(errors="replace")
    if expected:
        assert log.count("Rasa patches active for Rasa 3.6.21") == 1, log[-3000:]
    else:
        assert "Rasa patches: off (GEHOOR_RASA_PATCHES=off)" in log, log[-3000:]
