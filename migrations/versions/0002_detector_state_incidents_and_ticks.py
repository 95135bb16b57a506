"""detector state, incidents and ticks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 23:36:40.499085
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# Naive UTC with microseconds (MariaDB's DATETIME drops them unless fsp=6).
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('detector_state',
    sa.Column('detector', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('detector', 'key', name=op.f('pk_detector_state'))
    )
    op.create_table('incidents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.SmallInteger(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('opened_at', UTC_DATETIME, nullable=False),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.Column('last_finding_at', UTC_DATETIME, nullable=False),
    sa.Column('resolved_at', UTC_DATETIME, nullable=True),
    sa.Column('services', sa.JSON(), nullable=False),
    sa.Column('hosts', sa.JSON(), nullable=False),
    sa.Column('root_service', sa.String(length=255), nullable=True),
    sa.Column('root_host', sa.String(length=255), nullable=True),
    sa.Column('blast_radius', sa.JSON(), nullable=False),
    sa.Column('bundle', sa.JSON(), nullable=True),
    sa.Column('report', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_opened_at'), ['opened_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_status'), ['status'], unique=False)

    op.create_table('ticks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', UTC_DATETIME, nullable=False),
    sa.Column('window_start', UTC_DATETIME, nullable=False),
    sa.Column('window_end', UTC_DATETIME, nullable=False),
    sa.Column('duration_ms', sa.Float(), nullable=False),
    sa.Column('findings', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticks'))
    )
    with op.batch_alter_table('ticks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticks_at'), ['at'], unique=False)

    op.create_table('incident_findings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('detector', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('service', sa.String(length=255), nullable=True),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=64), nullable=True),
    sa.Column('at', UTC_DATETIME, nullable=False),
    sa.Column('started_at', UTC_DATETIME, nullable=False),
    sa.Column('severity', sa.SmallInteger(), nullable=False),
    sa.Column('summary', LONG_TEXT, nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_findings_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_findings'))
    )
    with op.batch_alter_table('incident_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_findings_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_findings_key'), ['key'], unique=False)

    with op.batch_alter_table('service_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_templates_first_seen'), ['first_seen'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('service_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_templates_first_seen'))

    # Dropping the table drops its indexes; MariaDB refuses to drop an index a
    # foreign key needs, so the indexes are not dropped one by one.
    op.drop_table('incident_findings')
    with op.batch_alter_table('ticks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticks_at'))

    op.drop_table('ticks')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidents_status'))
        batch_op.drop_index(batch_op.f('ix_incidents_opened_at'))

    op.drop_table('incidents')
    op.drop_table('detector_state')
