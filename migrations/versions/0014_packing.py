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
    op.create_table('box_types',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('length_mm', sa.Integer(), nullable=False),
    sa.Column('width_mm', sa.Integer(), nullable=False),
    sa.Column('height_mm', sa.Integer(), nullable=False),
    sa.Column('tare_g', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_box_types_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_box_types')),
    sa.UniqueConstraint('warehouse_id', 'code', name='uq_box_types_warehouse_id_code')
    )
    op.create_table('parcels',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('wave_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.Enum('CHECKING', 'CHECKED', 'WEIGHED', 'PACKED', 'SHIPPED', 'RETURNED', name='parcelstatus', native_enum=False, length=16), nullable=False),
    sa.Column('expected_weight_g', sa.Integer(), nullable=False),
    sa.Column('weight_g', sa.Integer(), nullable=True),
    sa.Column('weight_confirmed', sa.Boolean(), nullable=False),
    sa.Column('box_type_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('carrier', sa.String(length=50), nullable=False),
    sa.Column('waybill_no', sa.String(length=64), nullable=False),
    sa.Column('shipment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('packer_id', sa.BigInteger(), nullable=True),
    sa.Column('scan_token', sa.String(length=64), nullable=True),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('weight_g IS NULL OR weight_g > 0', name=op.f('ck_parcels_weight_positive')),
    sa.ForeignKeyConstraint(['box_type_id'], ['box_types.id'], name=op.f('fk_parcels_box_type_id_box_types')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_parcels_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_parcels_shipment_id_shipments')),
    sa.ForeignKeyConstraint(['tenant_id'], ['merchants.id'], name=op.f('fk_parcels_tenant_id_merchants')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_parcels_warehouse_id_warehouses')),
    sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_parcels_wave_id_waves'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parcels')),
    sa.UniqueConstraint('wave_id', 'order_id', name='uq_parcels_wave_id_order_id')
    )
    with op.batch_alter_table('parcels', schema=None) as batch_op:
        batch_op.create_index('ix_parcels_carrier_waybill_no', ['carrier', 'waybill_no'], unique=False)
        batch_op.create_index(batch_op.f('ix_parcels_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_parcels_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_parcels_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('parcel_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('parcel_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('quantity_checked', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_parcel_lines_quantity_positive')),
    sa.CheckConstraint('quantity_checked >= 0 AND quantity_checked <= quantity', name=op.f('ck_parcel_lines_checked_within_quantity')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_parcel_lines_order_line_id_order_lines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parcel_id'], ['parcels.id'], name=op.f('fk_parcel_lines_parcel_id_parcels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_parcel_lines_sku_id_skus')),
    sa.ForeignKeyConstraint(['tenant_id'], ['merchants.id'], name=op.f('fk_parcel_lines_tenant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parcel_lines')),
    sa.UniqueConstraint('parcel_id', 'order_line_id', name='uq_parcel_lines_parcel_id_order_line_id')
    )
    with op.batch_alter_table('parcel_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parcel_lines_tenant_id'), ['tenant_id'], unique=False)

    apply_rls(op, "parcels")
    apply_rls(op, "parcel_lines")

    with op.batch_alter_table('pick_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_pick_tasks_claimed_by_sequence', ['claimed_by', 'sequence', 'id'], unique=False, postgresql_where=sa.text("status = 'CLAIMED'"), sqlite_where=sa.text("status = 'CLAIMED'"))


def downgrade():
    with op.batch_alter_table('pick_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_pick_tasks_claimed_by_sequence', postgresql_where=sa.text("status = 'CLAIMED'"), sqlite_where=sa.text("status = 'CLAIMED'"))

    with op.batch_alter_table('parcel_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parcel_lines_tenant_id'))

    op.drop_table('parcel_lines')
    with op.batch_alter_table('parcels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parcels_warehouse_id'))
        batch_op.drop_index(batch_op.f('ix_parcels_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_parcels_order_id'))
        batch_op.drop_index('ix_parcels_carrier_waybill_no')

    op.drop_table('parcels')
    op.drop_table('box_types')
