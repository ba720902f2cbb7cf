"""suppliers, purchase orders, receipts and returns to suppliers

Revision ID: 0011_purchasing
Revises: 0010_wms_setup
Create Date: 2026-11-26 05:10:00

"""
from alembic import op
import sqlalchemy as sa

from marketplace.core.tenancy import apply_rls


# revision identifiers, used by Alembic.
revision = '0011_purchasing'
down_revision = '0010_wms_setup'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
