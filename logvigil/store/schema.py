"""The relational schema: SQLAlchemy 2 models shared by SQLite, PostgreSQL and MariaDB.

The schema changes only through Alembic migrations in `migrations/`; these
models describe the head revision and a test checks they agree with it.
Timestamps are stored as naive UTC (`UTCDateTime`) so the three backends
behave the same; they come back as aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

#: Named constraints, so migrations can address them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Long text: MariaDB's TEXT stops at 64 KiB, a truncated line plus UTF-8 may exceed it.
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")

#: Host and service names are at most this long (DNS names fit; MariaDB keys stay small).
NAME_LEN = 255


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, naive UTC with microseconds in the database."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Template(Base):
    """A mined log template. `id` is assigned by the miner and never changes."""

    __tablename__ = "templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    template: Mapped[str] = mapped_column(LongText)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    max_severity: Mapped[int] = mapped_column(SmallInteger)


class ServiceTemplate(Base):
    """A template as seen in one service: the memory new-template detection reads."""

    __tablename__ = "service_templates"

    service: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    template_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    max_severity: Mapped[int] = mapped_column(SmallInteger)


#: A vector's bytes (float32): MariaDB's BLOB stops at 64 KiB.
Blob = LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")


class TemplateEmbedding(Base):
    """A template's vector from one embedding model, for semantic search. It is current
    while the template's text hashes to `text_hash` and `text_version` is today's."""

    __tablename__ = "template_embeddings"

    template_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    text_version: Mapped[int] = mapped_column(SmallInteger)
    text_hash: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes] = mapped_column(Blob)
    embedded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MinuteCount(Base):
    """Lines per minute per (host, service, template, severity): what the detectors read."""

    __tablename__ = "minute_counts"

    minute: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    host: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    service: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    template_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    severity: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_minute_counts_service_minute", "service", "minute"),)


class Event(Base):
    """A raw event, kept for the retention period (default 7 days) as evidence."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    ts: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    host: Mapped[str] = mapped_column(String(NAME_LEN))
    service: Mapped[str] = mapped_column(String(NAME_LEN))
    severity: Mapped[int] = mapped_column(SmallInteger)
    template_id: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(LongText)
    source: Mapped[str] = mapped_column(String(NAME_LEN))
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_events_service_ts", "service", "ts"),
        Index("ix_events_template_ts", "template_id", "ts"),
    )


class IngestCursor(Base):
    """Where a source resumes: committed in the same transaction as its events."""

    __tablename__ = "ingest_cursors"

    source: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    cursor: Mapped[str] = mapped_column(LongText)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SourceHealth(Base):
    """What the process reading a source last said about it, rewritten every few seconds.

    One row per source (source names key the cursors too, so they are unique
    across every process sharing the store). It lets `logvigil status` on any
    machine show every source's lines, errors and lag, and the detector leader
    turn an SSH host that another process cannot reach into a finding.
    """

    __tablename__ = "source_health"

    source: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    process: Mapped[str] = mapped_column(String(NAME_LEN))
    kind: Mapped[str] = mapped_column(String(32))
    host: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True)
    lines: Mapped[int] = mapped_column(BigInteger, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(LongText, nullable=True)
    last_lines_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    unreachable_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    unreachable_grace_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Counter(Base):
    """Monotonic counters: lines dropped per noise rule, rejected per reason, and so on."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)


class Rejection(Base):
    """A sample of rejected input lines with the reason, so an operator can find them."""

    __tablename__ = "rejections"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    source: Mapped[str] = mapped_column(String(NAME_LEN))
    line_no: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(NAME_LEN))
    excerpt: Mapped[str] = mapped_column(LongText)


class DetectorState(Base):
    """Persisted detector memory (EWMA, cadence, learning), one row per detector and key.

    `version` is the detector's state version: a row of another version is
    discarded and relearnt rather than misread.
    """

    __tablename__ = "detector_state"

    detector: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IncidentRow(Base):
    """An incident: one cascade of findings, its lifecycle, bundle and report."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str] = mapped_column(String(NAME_LEN))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_finding_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    services: Mapped[list[str]] = mapped_column(JSON)
    hosts: Mapped[list[str]] = mapped_column(JSON)
    root_service: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True)
    root_host: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True)
    blast_radius: Mapped[list[Any]] = mapped_column(JSON)
    bundle: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class IncidentFinding(Base):
    """A finding attached to an incident (the trigger and everything that joined it)."""

    __tablename__ = "incident_findings"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    incident_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("incidents.id", ondelete="CASCADE"),
        index=True,
    )
    detector: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(NAME_LEN), index=True)
    service: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True)
    host: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True)
    template_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str | None] = mapped_column(String(64), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    severity: Mapped[int] = mapped_column(SmallInteger)
    summary: Mapped[str] = mapped_column(LongText)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)


class TickRow(Base):
    """One detector tick: when it ran, over which window, what it cost and found."""

    __tablename__ = "ticks"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[float] = mapped_column(Float)
    findings: Mapped[int] = mapped_column(Integer)
    errors: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class OutboxRow(Base):
    """A notification to deliver: at least once, never twice (the idempotency key is unique).

    A sender claims due rows with a conditional UPDATE (`claimed_until`), sends,
    and marks them sent; a crash mid-send leaves the claim to expire and the row
    is retried, and the channel's own idempotency (or our key) stops a duplicate.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    channel: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(NAME_LEN), unique=True)
    incident_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), nullable=True, index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(LongText, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)


class SilenceRow(Base):
    """An operator's silence: matching incidents are recorded and investigated, not notified."""

    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    service: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True)
    host: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True)
    reason: Mapped[str] = mapped_column(LongText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ChannelState(Base):
    """A notification channel's health: a permanent failure (401/404) marks it broken."""

    __tablename__ = "channel_state"

    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    broken: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(LongText, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AnswerRow(Base):
    """An answer `ask` gave: its question, the evidence and wording as shown, and the model
    (None for the deterministic answer). `ask --replay ID` shows it again from here."""

    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    question: Mapped[str] = mapped_column(LongText)
    model: Mapped[str | None] = mapped_column(String(NAME_LEN), nullable=True)
    zone: Mapped[str] = mapped_column(String(64))
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)


metadata = Base.metadata
