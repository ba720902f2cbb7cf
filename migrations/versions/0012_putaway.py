"""putaway tasks: received units waiting to go into a bin

Revision ID: 0012_putaway
Revises: 0011_purchasing
Create Date: 2026-11-26 05:30:00

"""
from alembic import op
import sqlalchemy as sa

from marketplace.core.tenancy import apply_rls


# revision identifiers, used by Alembic.
revision = '0012_putaway'
down_revision = '0011_purchasing'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('putaway_tasks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('receipt_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('sku_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('quantity_done', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('OPEN', 'DONE', name='putawaystatus', native_enum=False, length=16), nullable=False),
    sa.Column('claimed_by', sa.BigInteger(), nullable=True),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_putaway_tasks_quantity_positive')),
    sa.CheckConstraint('quantity_done >= 0 AND quantity_done <= quantity', name=op.f('ck_putaway_tasks_done_within_quantity')),
    sa.ForeignKeyConstraint(['receipt_line_id'], ['receipt_lines.id'], name=op.f('fk_putaway_tasks_receipt_line_id_receipt_lines')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_putaway_tasks_sku_id_skus'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['merchants.id'], name=op.f('fk_putaway_tasks_tenant_id_merchants')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_putaway_tasks_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_putaway_tasks'))
    )
    with op.batch_alter_table('putaway_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_putaway_tasks_warehouse_id_status', ['warehouse_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_putaway_tasks_receipt_line_id'), ['receipt_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_putaway_tasks_sku_id'), ['sku_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_putaway_tasks_tenant_id'), ['tenant_id'], unique=False)

    apply_rls(op, "putaway_tasks")


def downgrade():
    with op.batch_alter_table('putaway_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_putaway_tasks_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_putaway_tasks_sku_id'))
        batch_op.drop_index(batch_op.f('ix_putaway_tasks_receipt_line_id'))
        batch_op.drop_index('ix_putaway_tasks_warehouse_id_status')

    op.drop_table('putaway_tasks')
