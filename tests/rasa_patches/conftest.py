import pytest

import bot.rasa_patches


@pytest.fixture(autouse=True, scope="session")
def rasa_patches_installed():
    """Every patch installed, strictly: one that does not fit this Rasa fails the tests."""
    bot.rasa_patches.install(strict=True, enabled=True)
