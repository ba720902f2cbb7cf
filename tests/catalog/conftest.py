"""Fixtures of the catalogue tests."""

from __future__ import annotations

import pytest

from marketplace.catalog.services import save_brand, save_category
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db


@pytest.fixture
def catalogue(app):
    """A category (茶具 / Tea ware) under a root (家居 / Home) and a brand."""
    with app.app_context(), acting_as(SYSTEM):
        root = save_category(db.session, name="家居", name_en="Home")
        category = save_category(db.session, name="茶具", name_en="Tea ware", parent_id=root.id)
        brand = save_brand(db.session, name="青山", name_en="Green Hill")
        db.session.commit()
        return {"category": category.id, "root": root.id, "brand": brand.id}
