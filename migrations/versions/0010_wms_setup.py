"""warehouse zones, bins, bin stock and the shops a warehouse serves

Revision ID: 0010_wms_setup
Revises: 0009_orders
Create Date: 2026-11-26 05:10:00

"""
from alembic import op
import sqlalchemy as sa

from marketplace.core.tenancy import apply_rls


# revision identifiers, used by Alembic.
revision = '0010_wms_setup'
down_revision = '0009_orders'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
