"""The `database:` section: where the store lives and how long it keeps what."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from logvigil.core.configbase import Strict

#: Retention is at most a century: `now - days` then stays far inside the calendar
#: (a larger number would pass and make every purge overflow).
MAX_RETENTION_DAYS = 36_500
RetentionDays = Annotated[int, Field(gt=0, le=MAX_RETENTION_DAYS)]


class DatabaseConfig(Strict):
    """Where templates, counts and events are stored."""

    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: a SQLite file `logvigil.db` in the data directory",
    )
    event_retention_days: RetentionDays = 7
    count_retention_days: RetentionDays = 90

    @field_validator("url")
    @classmethod
    def _known_backend(cls, v: str | None) -> str | None:
        if v is None:
            return v
        scheme = v.split(":", 1)[0].split("+", 1)[0]
        if scheme not in ("sqlite", "postgresql", "postgres", "mysql", "mariadb"):
            raise ValueError(
                f"unsupported database {scheme!r}: use sqlite:///PATH, "
                "postgresql+psycopg://... or mysql+pymysql://..."
            )
        return v
