"""customer-return and transfer receipts

Revision ID: 0016_transfers
Revises: 0015_counts
Create Date: 2026-11-26 06:45:00

"""
from alembic import op
import sqlalchemy as sa

from marketplace.core.tenancy import apply_rls


# revision identifiers, used by Alembic.
revision = '0016_transfers'
down_revision = '0015_counts'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
