"""Tenant isolation: the ORM filter and PostgreSQL row-level security, each proven on its own."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from marketplace.core.db import Base, TenantScoped
from marketplace.core.tenancy import RLS_POLICY, CrossTenantWrite, tenant_context
from marketplace.merchants.models import ApiKey
from marketplace.merchants.services import create_api_key, create_merchant


@pytest.fixture
def two_shops(session):
    shop_a = create_merchant(session, name="A", slug="shop-a")
    shop_b = create_merchant(session, name="B", slug="shop-b")
    key_a, _ = create_api_key(
        session, tenant_id=shop_a.id, name="a-key", scopes=["shop.view"], created_by_id=None
    )
    key_b, _ = create_api_key(
        session, tenant_id=shop_b.id, name="b-key", scopes=["shop.view"], created_by_id=None
    )
    session.commit()
    return shop_a, shop_b, key_a, key_b


def test_orm_query_in_a_tenant_context_sees_only_that_tenant(session, two_shops):
    shop_a, shop_b, key_a, key_b = two_shops

    with tenant_context(session, shop_a.id):
        names = session.scalars(select(ApiKey.name)).all()
        by_id = session.scalar(select(ApiKey).where(ApiKey.id == key_b.id))

    assert names == ["a-key"]
    assert by_id is None


def test_orm_update_in_a_tenant_context_cannot_touch_another_tenant(session, two_shops):
    shop_a, shop_b, key_a, key_b = two_shops

    with tenant_context(session, shop_a.id):
        session.execute(update(ApiKey).values(name="renamed"))
        session.commit()

    session.expire_all()
    assert {k.name for k in session.scalars(select(ApiKey))} == {"renamed", "b-key"}


def test_writing_another_tenants_row_is_refused(session, two_shops):
    shop_a, shop_b, key_a, key_b = two_shops

    with tenant_context(session, shop_a.id):
        session.add(ApiKey(tenant_id=shop_b.id, name="smuggled", prefix="abc123", key_hash="0" * 64))
        with pytest.raises(CrossTenantWrite):
            session.flush()
    session.rollback()
    assert session.scalar(select(ApiKey).where(ApiKey.name == "smuggled")) is None


def test_new_rows_are_stamped_with_the_active_tenant(session, two_shops):
    shop_a, *_ = two_shops

    with tenant_context(session, shop_a.id):
        key = ApiKey(name="stamped", prefix="def456", key_hash="1" * 64)
        session.add(key)
        session.flush()

    assert key.tenant_id == shop_a.id


def test_raw_sql_in_a_tenant_context_is_filtered_by_row_level_security(session, two_shops, postgres_only):
    shop_a, shop_b, *_ = two_shops

    with tenant_context(session, shop_a.id):
        rows = session.execute(text("SELECT tenant_id, name FROM api_keys ORDER BY id")).all()
        hidden = session.execute(
            text("SELECT count(*) FROM api_keys WHERE tenant_id = :b"), {"b": shop_b.id}
        ).scalar()
        updated = session.execute(
            text("UPDATE api_keys SET name = 'x' WHERE tenant_id = :b"), {"b": shop_b.id}
        )

    assert rows == [(shop_a.id, "a-key")]
    assert hidden == 0
    assert updated.rowcount == 0


def test_raw_sql_insert_for_another_tenant_is_refused_by_the_policy(session, two_shops, postgres_only):
    from sqlalchemy.exc import ProgrammingError

    shop_a, shop_b, *_ = two_shops
    with tenant_context(session, shop_a.id), pytest.raises(ProgrammingError, match="row-level security"):
        session.execute(
            text(
                "INSERT INTO api_keys (tenant_id, name, prefix, key_hash, permissions) VALUES (:b, 'x', 'p', 'h', '[]')"
            ),
            {"b": shop_b.id},
        )
    session.rollback()


def test_tenant_setting_does_not_leak_into_the_next_transaction(session, two_shops, postgres_only):
    shop_a, *_ = two_shops

    with tenant_context(session, shop_a.id):
        session.execute(text("SELECT 1"))
    session.commit()

    assert session.execute(text("SELECT count(*) FROM api_keys")).scalar() == 2
    assert session.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar() in (None, "")


def test_the_application_role_cannot_bypass_row_level_security(session, postgres_only):
    superuser, bypass = session.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    ).one()

    assert (superuser, bypass) == (False, False)


def test_every_tenant_table_has_forced_row_level_security_and_the_policy(session, postgres_only):
    tenant_tables = {m.local_table.name for m in Base.registry.mappers if issubclass(m.class_, TenantScoped)}
    rows = session.execute(
        text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname AND p.policyname = :policy) "
            "FROM pg_class c WHERE c.relname = ANY(:tables)"
        ),
        {"tables": list(tenant_tables), "policy": RLS_POLICY},
    ).all()

    assert tenant_tables
    assert sorted(rows) == sorted((name, True, True, True) for name in tenant_tables)
