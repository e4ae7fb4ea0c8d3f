"""Rasa SDK custom actions: thin adapters from the tracker to bot/listening and bot/store."""
from bot.listening import warm_up

# Build the spaCy pipelines when the action server starts, not in the first conversation.
warm_up()
