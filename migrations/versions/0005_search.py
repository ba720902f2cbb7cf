"""search: the storefront's listing index (listed_products, kept by triggers) and the search log

Revision ID: 0005_search
Revises: 0004_imports
Create Date: 2026-11-26 02:10:00

``listed_products`` holds exactly the products shoppers may see - listed, approved, of an active shop - for
listing pages and search, without the tenant policy of ``products`` (marketplace/search/models.py says why).
Triggers keep it: on ``products`` (insert, update; a delete cascades), on ``product_facets`` (statement triggers
with transition tables on PostgreSQL, row triggers on SQLite) and on ``merchants.status`` (suspending a shop
removes its rows, reopening it puts them back). On PostgreSQL the search tokens are stored as a tsvector with
a GIN index, and pg_trgm (a trusted extension: the database owner creates it, no superuser needed) indexes the
titles' trigrams. Downgrading leaves the extension in place, as other tables may use it.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0005_search'
down_revision = '0004_imports'
branch_labels = None
depends_on = None

# Columns copied from products: listed_products column <- expression over a products {row}.
COPIED = [
    ('product_id', '{row}.id'), ('shop_id', '{row}.tenant_id'), ('category_id', '{row}.category_id'),
    ('brand_id', '{row}.brand_id'), ('title', '{row}.title'), ('min_price', '{row}.min_price'),
    ('max_price', '{row}.max_price'), ('sales_count', '{row}.sales_count'), ('rating_count', '{row}.rating_count'),
    ('rating_sum', '{row}.rating_sum'), ('listed_at', '{row}.listed_at'), ('shop_position', '{row}.shop_position'),
]
POSTGRES_COPIED = COPIED + [
    ('search_vector', "to_tsvector('simple'::regconfig, {row}.search_tokens)"),
    ('facets', 'search_product_facets({row}.id)'),
]
SQLITE_FACETS = (
    "(SELECT json_group_array(facet) FROM (SELECT name || char(31) || value AS facet"
    " FROM product_facets WHERE product_id = {id} ORDER BY name, value))"
)
SQLITE_COPIED = COPIED + [
    ('search_vector', '{row}.search_tokens'),
    ('facets', SQLITE_FACETS.format(id='{row}.id')),
]
LISTED = "{row}.is_listed AND {row}.status = 'APPROVED'"
SHOP_OPEN = "EXISTS (SELECT 1 FROM merchants WHERE merchants.id = {row}.tenant_id AND merchants.status = 'ACTIVE')"


def columns(copied):
    return ', '.join(c for c, _ in copied)


def values(copied, row):
    return ', '.join(e.format(row=row) for _, e in copied)


def updates(copied):
    """Facets are left alone: the product_facets triggers keep them."""
    return ', '.join(f'{c} = excluded.{c}' for c, _ in copied[1:] if c != 'facets')


def copy_shop_products(copied, shop):
    """INSERT ... SELECT of the listed products of one shop (``shop`` an SQL expression), or of every open shop."""
    where = f"products.tenant_id = {shop}" if shop else SHOP_OPEN.format(row='products')
    return (
        f"INSERT INTO listed_products ({columns(copied)}) SELECT {values(copied, 'products')} FROM products"
        f" WHERE {LISTED.format(row='products')} AND {where} ON CONFLICT (product_id) DO NOTHING"
    )


POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_listed_products_title_trgm ON listed_products USING gin (lower(title) gin_trgm_ops)",
    """
    CREATE FUNCTION search_product_facets(product bigint) RETURNS text[] LANGUAGE sql STABLE AS $$
        SELECT coalesce(array_agg(name || chr(31) || value ORDER BY name, value), '{}')
        FROM product_facets WHERE product_id = product
    $$""",
    f"""
    CREATE FUNCTION search_sync_listed_product() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF {LISTED.format(row='NEW')} AND {SHOP_OPEN.format(row='NEW')} THEN
            INSERT INTO listed_products ({columns(POSTGRES_COPIED)})
            VALUES ({values(POSTGRES_COPIED, 'NEW')})
            ON CONFLICT (product_id) DO UPDATE SET {updates(POSTGRES_COPIED)};
        ELSE
            DELETE FROM listed_products WHERE product_id = NEW.id;
        END IF;
        RETURN NULL;
    END $$""",
    # Drafts never fire it: imports of drafts don't pay for the trigger.
    f"""CREATE TRIGGER listed_products_on_insert AFTER INSERT ON products FOR EACH ROW
        WHEN ({LISTED.format(row='NEW')}) EXECUTE FUNCTION search_sync_listed_product()""",
    f"""CREATE TRIGGER listed_products_on_update AFTER UPDATE ON products FOR EACH ROW
        WHEN (({LISTED.format(row='OLD')}) OR ({LISTED.format(row='NEW')}))
        EXECUTE FUNCTION search_sync_listed_product()""",
    """
    CREATE FUNCTION search_sync_listed_facets() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE listed_products SET facets = search_product_facets(product_id)
        WHERE product_id IN (SELECT DISTINCT product_id FROM changed_facets);
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER listed_products_on_facets_insert AFTER INSERT ON product_facets
        REFERENCING NEW TABLE AS changed_facets FOR EACH STATEMENT EXECUTE FUNCTION search_sync_listed_facets()""",
    """CREATE TRIGGER listed_products_on_facets_delete AFTER DELETE ON product_facets
        REFERENCING OLD TABLE AS changed_facets FOR EACH STATEMENT EXECUTE FUNCTION search_sync_listed_facets()""",
    f"""
    CREATE FUNCTION search_sync_listed_shop() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.status = 'ACTIVE' THEN
            {copy_shop_products(POSTGRES_COPIED, 'NEW.id')};
        ELSE
            DELETE FROM listed_products WHERE shop_id = NEW.id;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER listed_products_on_shop_status AFTER UPDATE OF status ON merchants FOR EACH ROW
        WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION search_sync_listed_shop()""",
    copy_shop_products(POSTGRES_COPIED, None),
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS listed_products_on_shop_status ON merchants",
    "DROP TRIGGER IF EXISTS listed_products_on_facets_delete ON product_facets",
    "DROP TRIGGER IF EXISTS listed_products_on_facets_insert ON product_facets",
    "DROP TRIGGER IF EXISTS listed_products_on_update ON products",
    "DROP TRIGGER IF EXISTS listed_products_on_insert ON products",
    "DROP FUNCTION IF EXISTS search_sync_listed_shop()",
    "DROP FUNCTION IF EXISTS search_sync_listed_facets()",
    "DROP FUNCTION IF EXISTS search_sync_listed_product()",
    "DROP FUNCTION IF EXISTS search_product_facets(bigint)",
]

SQLITE_UPSERT = f"""
    INSERT INTO listed_products ({columns(SQLITE_COPIED)})
    SELECT {values(SQLITE_COPIED, 'NEW')} WHERE {LISTED.format(row='NEW')} AND {SHOP_OPEN.format(row='NEW')}
    ON CONFLICT (product_id) DO UPDATE SET {updates(SQLITE_COPIED)};"""
SQLITE_UP = [
    f"""CREATE TRIGGER listed_products_on_insert AFTER INSERT ON products
        WHEN {LISTED.format(row='NEW')} BEGIN {SQLITE_UPSERT} END""",
    f"""CREATE TRIGGER listed_products_on_update AFTER UPDATE ON products BEGIN
        DELETE FROM listed_products WHERE product_id = NEW.id
            AND NOT ({LISTED.format(row='NEW')} AND {SHOP_OPEN.format(row='NEW')});
        {SQLITE_UPSERT} END""",
    """CREATE TRIGGER listed_products_on_delete AFTER DELETE ON products
        BEGIN DELETE FROM listed_products WHERE product_id = OLD.id; END""",
    f"""CREATE TRIGGER listed_products_on_facets_insert AFTER INSERT ON product_facets BEGIN
        UPDATE listed_products SET facets = {SQLITE_FACETS.format(id='NEW.product_id')}
        WHERE product_id = NEW.product_id; END""",
    f"""CREATE TRIGGER listed_products_on_facets_delete AFTER DELETE ON product_facets BEGIN
        UPDATE listed_products SET facets = {SQLITE_FACETS.format(id='OLD.product_id')}
        WHERE product_id = OLD.product_id; END""",
    f"""CREATE TRIGGER listed_products_on_shop_open AFTER UPDATE OF status ON merchants
        WHEN NEW.status = 'ACTIVE' AND OLD.status <> 'ACTIVE' BEGIN
        {copy_shop_products(SQLITE_COPIED, 'NEW.id')}; END""",
    """CREATE TRIGGER listed_products_on_shop_close AFTER UPDATE OF status ON merchants
        WHEN NEW.status <> 'ACTIVE' BEGIN DELETE FROM listed_products WHERE shop_id = NEW.id; END""",
    copy_shop_products(SQLITE_COPIED, None),
]
SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "listed_products_on_shop_close", "listed_products_on_shop_open", "listed_products_on_facets_delete",
        "listed_products_on_facets_insert", "listed_products_on_delete", "listed_products_on_update",
        "listed_products_on_insert",
    )
]


def upgrade():
    op.create_table('listed_products',
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('brand_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('min_price', sa.BigInteger(), nullable=False),
    sa.Column('max_price', sa.BigInteger(), nullable=False),
    sa.Column('sales_count', sa.Integer(), nullable=False),
    sa.Column('rating_count', sa.Integer(), nullable=False),
    sa.Column('rating_sum', sa.Integer(), nullable=False),
    sa.Column('listed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('shop_position', sa.Integer(), nullable=False),
    sa.Column('search_vector', postgresql.TSVECTOR().with_variant(sa.Text(), 'sqlite'), nullable=False),
    sa.Column('facets', postgresql.ARRAY(sa.Text()).with_variant(sa.JSON(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_listed_products_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('product_id', name=op.f('pk_listed_products'))
    )
    op.create_index('ix_listed_products_category_id_sales_count', 'listed_products', ['category_id', 'sales_count'], unique=False)
    op.create_index('ix_listed_products_shop_id_shop_position', 'listed_products', ['shop_id', 'shop_position'], unique=False)
    op.create_index('ix_listed_products_sales_count', 'listed_products', ['sales_count'], unique=False)
    op.create_index('ix_listed_products_listed_at', 'listed_products', ['listed_at'], unique=False)
    # GIN on PostgreSQL; an ordinary index on SQLite, where LIKE cannot use it (there so both schemas match).
    op.create_index('ix_listed_products_search', 'listed_products', ['search_vector'], unique=False, postgresql_using='gin')

    op.create_table('search_logs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('query', sa.String(length=200), nullable=False),
    sa.Column('tokens', sa.String(length=500), nullable=False),
    sa.Column('result_count', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_search_logs_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_logs'))
    )
    op.create_index(op.f('ix_search_logs_created_at'), 'search_logs', ['created_at'], unique=False)

    for statement in POSTGRES_UP if op.get_bind().dialect.name == 'postgresql' else SQLITE_UP:
        op.execute(statement)


def downgrade():
    for statement in POSTGRES_DOWN if op.get_bind().dialect.name == 'postgresql' else SQLITE_DOWN:
        op.execute(statement)
    op.drop_index(op.f('ix_search_logs_created_at'), table_name='search_logs')
    op.drop_table('search_logs')
    op.drop_table('listed_products')  # its indexes go with it
