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


def _id(name, nullable=False):
    return sa.Column(name, sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=nullable)


def upgrade():
    op.create_table('return_receipts',
    _id('id'),
    sa.Column('number', sa.String(length=40), nullable=False),
    _id('warehouse_id'),
    _id('order_id'),
    sa.Column('case_reference', sa.String(length=64), nullable=False),
    sa.Column('received_by_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    _id('tenant_id'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_return_receipts_order_id_orders')),
    sa.ForeignKeyConstraint(['tenant_id'], ['merchants.id'], name=op.f('fk_return_receipts_tenant_id_merchants')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_return_receipts_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_receipts')),
    sa.UniqueConstraint('number', name=op.f('uq_return_receipts_number'))
    )
    with op.batch_alter_table('return_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_receipts_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_return_receipts_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('return_receipt_lines',
    _id('id'),
    _id('receipt_id'),
    _id('order_line_id'),
    _id('sku_id'),
    sa.Column('quantity_good', sa.Integer(), nullable=False),
    sa.Column('quantity_damaged', sa.Integer(), nullable=False),
    _id('putaway_task_id', nullable=True),
    _id('tenant_id'),
    sa.CheckConstraint('quantity_good >= 0', name=op.f('ck_return_receipt_lines_quantity_good_not_negative')),
    sa.CheckConstraint('quantity_damaged >= 0', name=op.f('ck_return_receipt_lines_quantity_damaged_not_negative')),
    sa.CheckConstraint('quantity_good + quantity_damaged > 0', name=op.f('ck_return_receipt_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_return_receipt_lines_order_line_id_order_lines')),
    sa.ForeignKeyConstraint(['putaway_task_id'], ['putaway_tasks.id'], name=op.f('fk_return_receipt_lines_putaway_task_id_putaway_tasks')),
    sa.ForeignKeyConstraint(['receipt_id'], ['return_receipts.id'], name=op.f('fk_return_receipt_lines_receipt_id_return_receipts')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_return_receipt_lines_sku_id_skus')),
    sa.ForeignKeyConstraint(['tenant_id'], ['merchants.id'], name=op.f('fk_return_receipt_lines_tenant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_receipt_lines'))
    )
    with op.batch_alter_table('return_receipt_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_receipt_lines_order_line_id'), ['order_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_return_receipt_lines_receipt_id'), ['receipt_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_return_receipt_lines_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('transfers',
    _id('id'),
    sa.Column('number', sa.String(length=40), nullable=False),
    _id('from_warehouse_id'),
    _id('to_warehouse_id'),
    sa.Column('status', sa.Enum('DRAFT', 'SHIPPED', 'PARTIALLY_RECEIVED', 'RECEIVED', 'CANCELLED', name='transferstatus', native_enum=False, length=24), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_by_id', sa.BigInteger(), nullable=True),
    sa.Column('shipped_by_id', sa.BigInteger(), nullable=True),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    _id('tenant_id'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('from_warehouse_id <> to_warehouse_id', name=op.f('ck_transfers_different_warehouses')),
    sa.ForeignKeyConstraint(['from_warehouse_id'], ['warehouses.id'], name=op.f('fk_transfers_from_warehouse_id_warehouses')),
    sa.ForeignKeyConstraint(['tenant_id'], ['merchants.id'], name=op.f('fk_transfers_tenant_id_merchants')),
    sa.ForeignKeyConstraint(['to_warehouse_id'], ['warehouses.id'], name=op.f('fk_transfers_to_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfers')),
    sa.UniqueConstraint('number', name=op.f('uq_transfers_number'))
    )
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfers_from_warehouse_id'), ['from_warehouse_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfers_to_warehouse_id'), ['to_warehouse_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfers_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_transfers_tenant_id_status', ['tenant_id', 'status'], unique=False)

    op.create_table('transfer_lines',
    _id('id'),
    _id('transfer_id'),
    _id('sku_id'),
    _id('from_bin_id', nullable=True),
    sa.Column('quantity_sent', sa.Integer(), nullable=False),
    sa.Column('quantity_received', sa.Integer(), nullable=False),
    _id('tenant_id'),
    sa.CheckConstraint('quantity_sent > 0', name=op.f('ck_transfer_lines_quantity_sent_positive')),
    sa.CheckConstraint('quantity_received >= 0', name=op.f('ck_transfer_lines_quantity_received_not_negative')),
    sa.ForeignKeyConstraint(['from_bin_id'], ['bins.id'], name=op.f('fk_transfer_lines_from_bin_id_bins')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_transfer_lines_sku_id_skus')),
    sa.ForeignKeyConstraint(['tenant_id'], ['merchants.id'], name=op.f('fk_transfer_lines_tenant_id_merchants')),
    sa.ForeignKeyConstraint(['transfer_id'], ['transfers.id'], name=op.f('fk_transfer_lines_transfer_id_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_lines'))
    )
    with op.batch_alter_table('transfer_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_lines_sku_id'), ['sku_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_lines_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_lines_transfer_id'), ['transfer_id'], unique=False)

    op.create_table('transfer_receipt_lines',
    _id('id'),
    _id('transfer_id'),
    _id('transfer_line_id'),
    _id('sku_id'),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('confirmed_by_id', sa.BigInteger(), nullable=True),
    _id('putaway_task_id', nullable=True),
    sa.Column('received_by_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    _id('tenant_id'),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_transfer_receipt_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['putaway_task_id'], ['putaway_tasks.id'], name=op.f('fk_transfer_receipt_lines_putaway_task_id_putaway_tasks')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_transfer_receipt_lines_sku_id_skus')),
    sa.ForeignKeyConstraint(['tenant_id'], ['merchants.id'], name=op.f('fk_transfer_receipt_lines_tenant_id_merchants')),
    sa.ForeignKeyConstraint(['transfer_id'], ['transfers.id'], name=op.f('fk_transfer_receipt_lines_transfer_id_transfers')),
    sa.ForeignKeyConstraint(['transfer_line_id'], ['transfer_lines.id'], name=op.f('fk_transfer_receipt_lines_transfer_line_id_transfer_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_receipt_lines'))
    )
    with op.batch_alter_table('transfer_receipt_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_receipt_lines_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_receipt_lines_transfer_id'), ['transfer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_receipt_lines_transfer_line_id'), ['transfer_line_id'], unique=False)

    apply_rls(op, "return_receipts", "return_receipt_lines", "transfers", "transfer_lines", "transfer_receipt_lines")


def downgrade():
    with op.batch_alter_table('transfer_receipt_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfer_receipt_lines_transfer_line_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_receipt_lines_transfer_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_receipt_lines_tenant_id'))

    op.drop_table('transfer_receipt_lines')
    with op.batch_alter_table('transfer_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfer_lines_transfer_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_lines_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_lines_sku_id'))

    op.drop_table('transfer_lines')
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.drop_index('ix_transfers_tenant_id_status')
        batch_op.drop_index(batch_op.f('ix_transfers_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_transfers_to_warehouse_id'))
        batch_op.drop_index(batch_op.f('ix_transfers_from_warehouse_id'))

    op.drop_table('transfers')
    with op.batch_alter_table('return_receipt_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_receipt_lines_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_return_receipt_lines_receipt_id'))
        batch_op.drop_index(batch_op.f('ix_return_receipt_lines_order_line_id'))

    op.drop_table('return_receipt_lines')
    with op.batch_alter_table('return_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_receipts_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_return_receipts_order_id'))

    op.drop_table('return_receipts')
