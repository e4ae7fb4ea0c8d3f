"""The story store: SQLAlchemy models, Alembic migrations, capture (Rasa events → story),
durable outbox, reconcile, export, redaction, erasure/retention and seeding.

No Rasa imports here: Rasa events are read as plain JSON dicts. See docs/store.md.
"""
