"""The store: SQLAlchemy schema, engines, bulk writes, retention and read queries.

The same code runs on SQLite (the embedded default), PostgreSQL and MariaDB; the
schema changes only through `migrations`.
"""
