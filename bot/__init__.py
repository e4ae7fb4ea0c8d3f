"""Gehoor: a listening feedback chatbot (Rasa 3.6) — listening analysis, story store, review app.

Nothing in this package imports Rasa except `bot.channels` (Rasa input channels) and
`bot.rasa_patches` (Gehoor's patches of Rasa, installed at the Rasa server's start-up).
"""

__version__ = "0.1.0"
