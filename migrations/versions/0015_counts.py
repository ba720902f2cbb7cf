"""cycle counts and their lines: blind counts and variance review

Revision ID: 0015_counts
Revises: 0014_packing
Create Date: 2026-11-26 06:45:00

"""
from alembic import op
import sqlalchemy as sa

from marketplace.core.tenancy import apply_rls


# revision identifiers, used by Alembic.
revision = '0015_counts'
down_revision = '0014_packing'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
