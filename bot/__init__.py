"""Gehoor: a listening feedback chatbot (Rasa 3.6) — listening analysis, story store, review app.

Nothing in this package imports Rasa except `bot.channels` (Rasa input channels).
"""

__version__ = "0.1.0"
