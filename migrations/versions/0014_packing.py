"""parcels, parcel lines and box types: check, weigh, pack and ship

Revision ID: 0014_packing
Revises: 0013_outbound
Create Date: 2026-11-26 06:45:00

"""
from alembic import op
import sqlalchemy as sa

from marketplace.core.tenancy import apply_rls


# revision identifiers, used by Alembic.
revision = '0014_packing'
down_revision = '0013_outbound'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
