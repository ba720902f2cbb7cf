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
    op.create_table('suppliers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('contact_person', sa.String(length=80), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('payment_days', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suppliers')),
    sa.UniqueConstraint('name', name=op.f('uq_suppliers_name'))
    )
    op.create_table('supplier_documents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('supplier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('CONTRACT', 'INVOICE', name='documentkind', native_enum=False, length=16), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_supplier_documents_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_documents'))
    )
    with op.batch_alter_table('supplier_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supplier_documents_supplier_id'), ['supplier_id'], unique=False)
    op.create_table('purchase_orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('supplier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('PURCHASE', 'RETURN', name='pokind', native_enum=False, length=16), nullable=False),
    sa.Column('status', sa.Enum('DRAFT', 'APPROVED', 'PARTIALLY_RECEIVED', 'RECEIVED', 'CLOSED', 'CANCELLED', name='postatus', native_enum=False, length=24), nullable=False),
    sa.Column('expected_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.BigInteger(), nullable=True),
    sa.Column('approved_by_id', sa.BigInteger(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_purchase_orders_supplier_id_suppliers')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_purchase_orders_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_purchase_orders_number'))
    )
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_orders_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_orders_supplier_id'), ['supplier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_orders_warehouse_id'), ['warehouse_id'], unique=False)
    op.create_table('purchase_order_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('po_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity_ordered', sa.Integer(), nullable=False),
    sa.Column('quantity_received', sa.Integer(), nullable=False),
    sa.Column('unit_cost', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('quantity_ordered > 0', name=op.f('ck_purchase_order_lines_quantity_ordered_positive')),
    sa.CheckConstraint('quantity_received >= 0', name=op.f('ck_purchase_order_lines_quantity_received_not_negative')),
    sa.CheckConstraint('unit_cost >= 0', name=op.f('ck_purchase_order_lines_unit_cost_not_negative')),
    sa.ForeignKeyConstraint(['po_id'], ['purchase_orders.id'], name=op.f('fk_purchase_order_lines_po_id_purchase_orders')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_purchase_order_lines_sku_id_skus')),
    sa.ForeignKeyConstraint(['tenant_id'], ['merchants.id'], name=op.f('fk_purchase_order_lines_tenant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_order_lines'))
    )
    with op.batch_alter_table('purchase_order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_order_lines_po_id'), ['po_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_order_lines_sku_id'), ['sku_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchase_order_lines_tenant_id'), ['tenant_id'], unique=False)
    op.create_table('receipts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('po_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('received_by_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['po_id'], ['purchase_orders.id'], name=op.f('fk_receipts_po_id_purchase_orders')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_receipts_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipts')),
    sa.UniqueConstraint('number', name=op.f('uq_receipts_number'))
    )
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipts_po_id'), ['po_id'], unique=False)
    op.create_table('receipt_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('receipt_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('po_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('sku_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('damaged_quantity', sa.Integer(), nullable=False),
    sa.Column('unit_cost', sa.BigInteger(), nullable=False),
    sa.Column('confirmed_by_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint('damaged_quantity >= 0 AND damaged_quantity <= quantity', name=op.f('ck_receipt_lines_damaged_within_quantity')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_receipt_lines_quantity_positive')),
    sa.CheckConstraint('unit_cost >= 0', name=op.f('ck_receipt_lines_unit_cost_not_negative')),
    sa.ForeignKeyConstraint(['po_line_id'], ['purchase_order_lines.id'], name=op.f('fk_receipt_lines_po_line_id_purchase_order_lines')),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipts.id'], name=op.f('fk_receipt_lines_receipt_id_receipts')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_receipt_lines_sku_id_skus')),
    sa.ForeignKeyConstraint(['tenant_id'], ['merchants.id'], name=op.f('fk_receipt_lines_tenant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt_lines'))
    )
    with op.batch_alter_table('receipt_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipt_lines_po_line_id'), ['po_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_receipt_lines_receipt_id'), ['receipt_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_receipt_lines_sku_id'), ['sku_id'], unique=False)


def downgrade():
    with op.batch_alter_table('receipt_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipt_lines_sku_id'))
        batch_op.drop_index(batch_op.f('ix_receipt_lines_receipt_id'))
        batch_op.drop_index(batch_op.f('ix_receipt_lines_po_line_id'))
    op.drop_table('receipt_lines')
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipts_po_id'))
    op.drop_table('receipts')
    with op.batch_alter_table('purchase_order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_order_lines_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_order_lines_sku_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_order_lines_po_id'))
    op.drop_table('purchase_order_lines')
    with op.batch_alter_table('purchase_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_orders_warehouse_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_orders_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_purchase_orders_status'))
    op.drop_table('purchase_orders')
    with op.batch_alter_table('supplier_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supplier_documents_supplier_id'))
    op.drop_table('supplier_documents')
    op.drop_table('suppliers')
