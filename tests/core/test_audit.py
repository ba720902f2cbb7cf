"""The automatic audit trail: every row a staff member or merchant changes, with its id and changed fields."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.core.audit import Actor, AuditEntry, acting_as
from marketplace.extensions import db
from marketplace.merchants.models import Merchant
from marketplace.merchants.services import create_merchant


def test_created_rows_are_logged_with_their_new_id(app):
    with (
        app.app_context(),
        acting_as(Actor(user_id=7, kind="staff", ip="10.0.0.1", label="ops@example.test")),
    ):
        merchant = create_merchant(db.session, name="Audit Shop", slug="audit-shop")
        db.session.commit()
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "merchants.create"))

    assert (entry.object_type, entry.object_id, entry.tenant_id) == (
        "merchants",
        str(merchant.id),
        merchant.id,
    )
    assert (entry.actor_id, entry.actor_label, entry.ip) == (7, "ops@example.test", "10.0.0.1")
    assert entry.changes["name"] == "Audit Shop"


def test_updates_record_old_and_new_values_and_shoppers_are_not_logged(app):
    staff = Actor(user_id=1, kind="staff", label="a@example.test")
    with app.app_context(), acting_as(staff):
        merchant = create_merchant(db.session, name="Before", slug="before")
        db.session.commit()
    with app.app_context(), acting_as(staff):
        db.session.get(Merchant, merchant.id).name = "After"
        db.session.commit()
    with app.app_context(), acting_as(Actor(user_id=2, kind="shopper")):
        db.session.get(Merchant, merchant.id).contact_name = "not audited"
        db.session.commit()

    with app.app_context():
        updates = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "merchants.update")).all()
    assert [u.changes for u in updates] == [{"name": ["Before", "After"]}]
