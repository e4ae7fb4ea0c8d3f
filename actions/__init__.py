"""Rasa SDK custom actions: thin adapters from the tracker to bot/listening and bot/store."""
