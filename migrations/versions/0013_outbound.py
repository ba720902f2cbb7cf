"""waves, wave orders and pick tasks: releasing paid orders to pickers

Revision ID: 0013_outbound
Revises: 0012_putaway
Create Date: 2026-11-26 05:30:00

"""
from alembic import op
import sqlalchemy as sa

from marketplace.core.tenancy import apply_rls


# revision identifiers, used by Alembic.
revision = '0013_outbound'
down_revision = '0012_putaway'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('waves',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('OPEN', 'PICKING', 'PICKED', name='wavestatus', native_enum=False, length=16), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_waves_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waves')),
    sa.UniqueConstraint('warehouse_id', 'number', name='uq_waves_warehouse_id_number')
    )
    op.create_table('wave_orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('wave_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_wave_orders_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_wave_orders_wave_id_waves'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wave_orders')),
    sa.UniqueConstraint('order_id', name=op.f('uq_wave_orders_order_id'))
    )
    with op.batch_alter_table('wave_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wave_orders_wave_id'), ['wave_id'], unique=False)

    op.create_table('pick_tasks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('wave_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bin_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('quantity_picked', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('OPEN', 'CLAIMED', 'PICKED', 'SHORT', name='pickstatus', native_enum=False, length=16), nullable=False),
    sa.Column('claimed_by', sa.BigInteger(), nullable=True),
    sa.Column('sequence', sa.String(length=96), nullable=False),
    sa.Column('short_reason', sa.String(length=200), nullable=False),
    sa.Column('scan_token', sa.String(length=64), nullable=True),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_pick_tasks_quantity_positive')),
    sa.CheckConstraint('quantity_picked >= 0 AND quantity_picked <= quantity', name=op.f('ck_pick_tasks_picked_within_quantity')),
    sa.ForeignKeyConstraint(['bin_id'], ['bins.id'], name=op.f('fk_pick_tasks_bin_id_bins')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_pick_tasks_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_pick_tasks_order_line_id_order_lines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_pick_tasks_sku_id_skus')),
    sa.ForeignKeyConstraint(['tenant_id'], ['merchants.id'], name=op.f('fk_pick_tasks_tenant_id_merchants')),
    sa.ForeignKeyConstraint(['wave_id'], ['waves.id'], name=op.f('fk_pick_tasks_wave_id_waves'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pick_tasks'))
    )
    with op.batch_alter_table('pick_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pick_tasks_bin_id'), ['bin_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pick_tasks_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pick_tasks_order_line_id'), ['order_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pick_tasks_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_pick_tasks_wave_id_status_sequence', ['wave_id', 'status', 'sequence'], unique=False)

    apply_rls(op, "pick_tasks")


def downgrade():
    with op.batch_alter_table('pick_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_pick_tasks_wave_id_status_sequence')
        batch_op.drop_index(batch_op.f('ix_pick_tasks_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_pick_tasks_order_line_id'))
        batch_op.drop_index(batch_op.f('ix_pick_tasks_order_id'))
        batch_op.drop_index(batch_op.f('ix_pick_tasks_bin_id'))

    op.drop_table('pick_tasks')
    with op.batch_alter_table('wave_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wave_orders_wave_id'))

    op.drop_table('wave_orders')
    op.drop_table('waves')
