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
    op.create_table('zones',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_zones_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zones')),
    sa.UniqueConstraint('warehouse_id', 'code', name='uq_zones_warehouse_id_code')
    )
    with op.batch_alter_table('zones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_zones_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('bins',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('zone_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('barcode', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('STORAGE', 'PICK', 'RECEIVING', 'PACKING', 'DAMAGED', name='binkind', native_enum=False, length=16), nullable=False),
    sa.Column('sort_key', sa.String(length=96), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_bins_warehouse_id_warehouses')),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_bins_zone_id_zones')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bins')),
    sa.UniqueConstraint('barcode', name=op.f('uq_bins_barcode')),
    sa.UniqueConstraint('warehouse_id', 'code', name='uq_bins_warehouse_id_code')
    )
    with op.batch_alter_table('bins', schema=None) as batch_op:
        batch_op.create_index('ix_bins_warehouse_id_sort_key', ['warehouse_id', 'sort_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_bins_zone_id'), ['zone_id'], unique=False)

    op.create_table('warehouse_shops',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('merchant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_warehouse_shops_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_warehouse_shops_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warehouse_shops')),
    sa.UniqueConstraint('warehouse_id', 'merchant_id', name='uq_warehouse_shops_warehouse_id_merchant_id')
    )
    with op.batch_alter_table('warehouse_shops', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_warehouse_shops_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('bin_stocks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bin_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_bin_stocks_quantity_not_negative')),
    sa.ForeignKeyConstraint(['bin_id'], ['bins.id'], name=op.f('fk_bin_stocks_bin_id_bins')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_bin_stocks_sku_id_skus'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['merchants.id'], name=op.f('fk_bin_stocks_tenant_id_merchants')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_bin_stocks_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bin_stocks')),
    sa.UniqueConstraint('bin_id', 'sku_id', name='uq_bin_stocks_bin_id_sku_id')
    )
    with op.batch_alter_table('bin_stocks', schema=None) as batch_op:
        batch_op.create_index('ix_bin_stocks_warehouse_id_sku_id', ['warehouse_id', 'sku_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bin_stocks_tenant_id'), ['tenant_id'], unique=False)

    apply_rls(op, "bin_stocks")


def downgrade():
    with op.batch_alter_table('bin_stocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bin_stocks_tenant_id'))
        batch_op.drop_index('ix_bin_stocks_warehouse_id_sku_id')

    op.drop_table('bin_stocks')
    with op.batch_alter_table('warehouse_shops', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_warehouse_shops_merchant_id'))

    op.drop_table('warehouse_shops')
    with op.batch_alter_table('bins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bins_zone_id'))
        batch_op.drop_index('ix_bins_warehouse_id_sort_key')

    op.drop_table('bins')
    with op.batch_alter_table('zones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_zones_warehouse_id'))

    op.drop_table('zones')
