"""product imports

Revision ID: 0004_imports
Revises: 0003_onboarding
Create Date: 2026-11-27 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from marketplace.core.tenancy import apply_rls


# revision identifiers, used by Alembic.
revision = '0004_imports'
down_revision = '0003_onboarding'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('product_imports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('file_key', sa.String(length=64), nullable=False),
    sa.Column('file_format', sa.String(length=8), nullable=False),
    sa.Column('status', sa.Enum('QUEUED', 'VALIDATING', 'IMPORTING', 'DONE', 'FAILED', name='importstatus', native_enum=False, length=16), nullable=False),
    sa.Column('good_rows_only', sa.Boolean(), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('processed_rows', sa.Integer(), nullable=False),
    sa.Column('created_count', sa.Integer(), nullable=False),
    sa.Column('updated_count', sa.Integer(), nullable=False),
    sa.Column('sku_count', sa.Integer(), nullable=False),
    sa.Column('skipped_count', sa.Integer(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('failure', sa.String(length=32), nullable=True),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_ip', sa.String(length=64), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_product_imports_created_by_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['merchants.id'], name=op.f('fk_product_imports_tenant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_imports'))
    )
    with op.batch_alter_table('product_imports', schema=None) as batch_op:
        batch_op.create_index('ix_product_imports_tenant_id_id', ['tenant_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_product_imports_tenant_id'), ['tenant_id'], unique=False)

    apply_rls(op, "product_imports")


def downgrade():
    with op.batch_alter_table('product_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_imports_tenant_id'))
        batch_op.drop_index('ix_product_imports_tenant_id_id')

    op.drop_table('product_imports')
