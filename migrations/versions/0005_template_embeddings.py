"""template embeddings for semantic search

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# Naive UTC with microseconds (MariaDB's DATETIME drops them unless fsp=6).
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
# A vector's bytes (float32): MariaDB's BLOB stops at 64 KiB.
BLOB = sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('template_embeddings',
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=255), nullable=False),
    sa.Column('dim', sa.Integer(), nullable=False),
    sa.Column('text_version', sa.SmallInteger(), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('vector', BLOB, nullable=False),
    sa.Column('embedded_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('template_id', 'model', name=op.f('pk_template_embeddings'))
    )


def downgrade() -> None:
    op.drop_table('template_embeddings')
