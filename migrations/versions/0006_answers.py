"""the answers `ask` gave, for `ask --replay`

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# Naive UTC with microseconds (MariaDB's DATETIME drops them unless fsp=6).
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('answers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('asked_at', UTC_DATETIME, nullable=False),
    sa.Column('question', LONG_TEXT, nullable=False),
    sa.Column('model', sa.String(length=255), nullable=True),
    sa.Column('zone', sa.String(length=64), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answers'))
    )
    op.create_index(op.f('ix_answers_asked_at'), 'answers', ['asked_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_answers_asked_at'), table_name='answers')
    op.drop_table('answers')
