"""project inputs version: a token renewed by every change to what the planner reads of a project, so a process may keep the project's prepared problem until it changes

Revision ID: 3b9e4f1a7c20
Revises: 66fce5af5de6
Create Date: 2026-12-03 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b9e4f1a7c20'
down_revision = '66fce5af5de6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inputs_version', sa.String(length=32), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_column('inputs_version')
