"""Persistence: SQLModel tables, the engine (SQLite embedded default, PostgreSQL for scale-out),
and repositories. The schema is owned by alembic (``migrations/``); ``bedside db upgrade`` applies it.
"""
