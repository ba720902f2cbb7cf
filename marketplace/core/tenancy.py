"""The tenant walls: automatic ORM filtering and PostgreSQL row-level security.

A tenant context (merchant portal request, merchant API key, a job acting for one shop) is held in a
context variable. While it is active:

* every ORM SELECT/UPDATE/DELETE touching a :class:`TenantScoped` table gets ``tenant_id = :current``
  (``with_loader_criteria``; it does not cover Core statements or ``text()``);
* new tenant rows are stamped with the tenant, and a row of another tenant cannot be flushed;
* on PostgreSQL, ``app.tenant_id`` is set per transaction (``set_config(..., true)``) so the RLS policy
  created by :func:`rls_statements` filters even raw SQL. Per transaction, never per connection, so a
  pooled connection cannot carry one tenant into the next request.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import ORMExecuteState, Session, scoped_session, with_loader_criteria

from marketplace.core.db import TenantScoped

_current_tenant: ContextVar[int | None] = ContextVar("current_tenant", default=None)


class CrossTenantWrite(RuntimeError):
    """A flush tried to write a row of another tenant than the active one."""


def current_tenant_id() -> int | None:
    return _current_tenant.get()


def _unscoped(session: Session | scoped_session) -> Session:
    return session() if isinstance(session, scoped_session) else session


def activate_tenant(session: Session | scoped_session, tenant_id: int | None) -> None:
    """Make ``tenant_id`` the active tenant for the rest of this unit of work (request, job)."""
    _current_tenant.set(tenant_id)
    session = _unscoped(session)
    if session.in_transaction():
        _apply_setting(session.connection(), tenant_id)


@contextmanager
def tenant_context(session: Session | scoped_session, tenant_id: int | None) -> Iterator[None]:
    """Run a block as one tenant (or, with ``None``, with no tenant filter), then restore the previous one."""
    session = _unscoped(session)
    token = _current_tenant.set(tenant_id)
    if session.in_transaction():
        _apply_setting(session.connection(), tenant_id)
    try:
        yield
    finally:
        _current_tenant.reset(token)
        if session.in_transaction():
            # An aborted transaction is rolled back anyway, which drops the transaction-local setting.
            with contextlib.suppress(DBAPIError):
                _apply_setting(session.connection(), _current_tenant.get())


def _apply_setting(connection, tenant_id: int | None) -> None:
    if connection.dialect.name != "postgresql":
        return
    connection.execute(
        text("SELECT set_config('app.tenant_id', :tenant, true)"),
        {"tenant": "" if tenant_id is None else str(tenant_id)},
    )


@event.listens_for(Session, "after_begin")
def _set_tenant_on_begin(session: Session, transaction, connection) -> None:
    tenant_id = _current_tenant.get()
    if tenant_id is not None:
        _apply_setting(connection, tenant_id)


@event.listens_for(Session, "do_orm_execute")
def _filter_by_tenant(state: ORMExecuteState) -> None:
    tenant_id = _current_tenant.get()
    if tenant_id is None or state.is_column_load:
        return
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(
            with_loader_criteria(
                TenantScoped,
                lambda cls: cls.tenant_id == tenant_id,
                include_aliases=True,
            )
        )


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session: Session, flush_context, instances) -> None:
    tenant_id = _current_tenant.get()
    if tenant_id is None:
        return
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantScoped):
            continue
        if obj.tenant_id is None:
            obj.tenant_id = tenant_id
        elif obj.tenant_id != tenant_id:
            raise CrossTenantWrite(f"{obj!r} belongs to tenant {obj.tenant_id}, active tenant is {tenant_id}")


RLS_POLICY = "tenant_isolation"
_RLS_PREDICATE = (
    "(NULLIF(current_setting('app.tenant_id', true), '') IS NULL"
    " OR tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)"
)


def rls_statements(table: str) -> list[str]:
    """SQL that puts the second wall on one tenant table (PostgreSQL only; migrations call it).

    FORCE makes the policy apply to the table owner too, so the application's role cannot slip past
    it even if it owns the tables. With no tenant set (platform staff, storefront, jobs) all rows are
    visible: the admin services cross tenants on purpose.
    """
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {RLS_POLICY} ON {table}",
        f"CREATE POLICY {RLS_POLICY} ON {table} USING {_RLS_PREDICATE} WITH CHECK {_RLS_PREDICATE}",
    ]


def apply_rls(op, *tables: str) -> None:
    """Called from a migration that creates tenant tables: RLS on PostgreSQL, nothing on SQLite."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        for statement in rls_statements(table):
            op.execute(statement)
