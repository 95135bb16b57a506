"""source health, shared by every process

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# Naive UTC with microseconds (MariaDB's DATETIME drops them unless fsp=6).
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('source_health',
    sa.Column('source', sa.String(length=255), nullable=False),
    sa.Column('process', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.Column('lines', sa.BigInteger(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('error', LONG_TEXT, nullable=True),
    sa.Column('last_lines_at', UTC_DATETIME, nullable=True),
    sa.Column('last_event_at', UTC_DATETIME, nullable=True),
    sa.Column('unreachable_since', UTC_DATETIME, nullable=True),
    sa.Column('unreachable_grace_s', sa.Integer(), nullable=True),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_source_health'))
    )


def downgrade() -> None:
    op.drop_table('source_health')
