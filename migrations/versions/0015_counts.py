"""cycle counts and their lines: blind counts and variance review

Revision ID: 0015_counts
Revises: 0014_packing
Create Date: 2026-11-26 06:45:00

"""
from alembic import op
import sqlalchemy as sa

from marketplace.core.tenancy import apply_rls


# revision identifiers, used by Alembic.
revision = '0015_counts'
down_revision = '0014_packing'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cycle_counts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('scope', sa.Enum('BINS', 'ZONE', 'SKU', name='countscope', native_enum=False, length=16), nullable=False),
    sa.Column('zone_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('sku_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('bin_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('OPEN', 'COUNTED', 'CLOSED', name='countstatus', native_enum=False, length=16), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', sa.BigInteger(), nullable=True),
    sa.Column('submitted_by_id', sa.BigInteger(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_cycle_counts_sku_id_skus'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_cycle_counts_warehouse_id_warehouses')),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_cycle_counts_zone_id_zones')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_counts')),
    sa.UniqueConstraint('warehouse_id', 'number', name='uq_cycle_counts_warehouse_id_number')
    )
    op.create_table('cycle_count_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('count_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bin_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('expected_quantity', sa.Integer(), nullable=False),
    sa.Column('counted_quantity', sa.Integer(), nullable=True),
    sa.Column('counted_by_id', sa.BigInteger(), nullable=True),
    sa.Column('counted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('found_extra', sa.Boolean(), nullable=False),
    sa.Column('decision', sa.Enum('APPROVED', 'REJECTED', name='countdecision', native_enum=False, length=16), nullable=True),
    sa.Column('decision_reason', sa.String(length=200), nullable=False),
    sa.Column('decided_by_id', sa.BigInteger(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('counted_quantity IS NULL OR counted_quantity >= 0', name=op.f('ck_cycle_count_lines_counted_not_negative')),
    sa.CheckConstraint('expected_quantity >= 0', name=op.f('ck_cycle_count_lines_expected_not_negative')),
    sa.ForeignKeyConstraint(['bin_id'], ['bins.id'], name=op.f('fk_cycle_count_lines_bin_id_bins')),
    sa.ForeignKeyConstraint(['count_id'], ['cycle_counts.id'], name=op.f('fk_cycle_count_lines_count_id_cycle_counts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_cycle_count_lines_sku_id_skus'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['merchants.id'], name=op.f('fk_cycle_count_lines_tenant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_count_lines')),
    sa.UniqueConstraint('count_id', 'bin_id', 'sku_id', name='uq_cycle_count_lines_count_id_bin_id_sku_id')
    )
    with op.batch_alter_table('cycle_count_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cycle_count_lines_count_id'), ['count_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cycle_count_lines_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('cycle_count_scans',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('counted_by_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_cycle_count_scans_quantity_positive')),
    sa.ForeignKeyConstraint(['line_id'], ['cycle_count_lines.id'], name=op.f('fk_cycle_count_scans_line_id_cycle_count_lines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['merchants.id'], name=op.f('fk_cycle_count_scans_tenant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_count_scans')),
    sa.UniqueConstraint('token', name=op.f('uq_cycle_count_scans_token'))
    )
    with op.batch_alter_table('cycle_count_scans', schema=None) as batch_op:
        batch_op.create_index('ix_cycle_count_scans_line_id', ['line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cycle_count_scans_tenant_id'), ['tenant_id'], unique=False)

    apply_rls(op, "cycle_count_lines", "cycle_count_scans")


def downgrade():
    with op.batch_alter_table('cycle_count_scans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cycle_count_scans_tenant_id'))
        batch_op.drop_index('ix_cycle_count_scans_line_id')

    op.drop_table('cycle_count_scans')
    with op.batch_alter_table('cycle_count_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cycle_count_lines_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_cycle_count_lines_count_id'))

    op.drop_table('cycle_count_lines')
    op.drop_table('cycle_counts')
