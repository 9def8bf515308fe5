"""plan summary: the solver's report stored with the plan

Revision ID: 5d0f7a3c2b18
Revises: c81b1e57ea87
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa


revision = '5d0f7a3c2b18'
down_revision = 'c81b1e57ea87'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('summary', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_column('summary')
