"""The platform's category tree, category attributes and brands in the admin portal."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.catalog.models import Brand, Category, CategoryAttribute
from marketplace.catalog.services import ProductInput, SkuInput, create_product, save_category
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.identity.models import UserKind
from marketplace.identity.services import save_role
from tests.factories import login, make_merchant, make_user


@pytest.fixture
def admin(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(client, make_user(app, UserKind.STAFF)).status_code == 302
    return client


def _category(app, name, parent_id=None, position=0) -> int:
    with app.app_context(), acting_as(SYSTEM):
        category = save_category(db.session, name=name, parent_id=parent_id, position=position)
        db.session.commit()
        return category.id


def _get(app, model, object_id):
    with app.app_context():
        return db.session.get(model, object_id)


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _form(**fields) -> dict:
    data = {
        "name": "茶叶",
        "name_en": "Tea",
        "parent_id": "0",
        "position": "2",
        "commission_rate": "4.5",
        "is_active": "y",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


# --- categories -----------------------------------------------------------------------------------


def test_admin_creates_a_category_and_a_subcategory_shown_as_an_ordered_tree(app, admin):
    response = admin.post("/admin/catalog/categories/new", data=_form())

    assert response.status_code == 302
    with app.app_context():
        tea = db.session.scalar(select(Category).where(Category.name == "茶叶"))
        assert (tea.name_en, tea.position, tea.commission_rate_bp, tea.is_active, tea.parent_id) == (
            "Tea",
            2,
            450,
            True,
            None,
        )
    assert response.headers["Location"].endswith(f"/admin/catalog/categories/{tea.id}")
    admin.post("/admin/catalog/categories/new", data=_form(name="绿茶", parent_id=str(tea.id), position="1"))
    admin.post("/admin/catalog/categories/new", data=_form(name="红茶", parent_id=str(tea.id), position="0"))
    _category(app, "茶具", position=5)
    _category(app, "服装", position=1)

    page = admin.get("/admin/catalog/categories")

    assert page.status_code == 200
    table = page.text[page.text.index('id="category-tree"') :]
    assert sorted(("茶具", "绿茶", "服装", "红茶", "茶叶"), key=table.index) == [
        "服装",
        "茶叶",
        "红茶",
        "绿茶",
        "茶具",
    ]
    assert table.count('data-depth="1"') == 2
    assert "4.50 %" in page.text
    with app.app_context():
        green = db.session.scalar(select(Category).where(Category.name == "绿茶"))
        assert (green.depth, green.path) == (1, f"/{tea.id}/{green.id}/")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"commission_rate": "abc"}, "Enter a percentage like 5 or 4.5."),
        ({"commission_rate": "150"}, "Commission is between 0 and 100 %."),
        ({"commission_rate": "4.555"}, "At most two decimals."),
        ({"parent_id": "999999"}, "Not a valid choice."),
    ],
)
def test_bad_category_input_shows_the_field_message_and_saves_nothing(app, admin, fields, message):
    response = admin.post("/admin/catalog/categories/new", data=_form(**fields))

    assert response.status_code == 422
    assert f'<small class="field-error">{message}</small>' in response.text
    assert _count(app, Category) == 0


def test_admin_edits_a_category_but_cannot_move_it_under_its_own_child(app, admin):
    parent = _category(app, "茶叶")
    child = _category(app, "绿茶", parent_id=parent)

    moved_down = admin.post(
        f"/admin/catalog/categories/{parent}", data=_form(name="茶叶", parent_id=str(child))
    )
    edited = admin.post(
        f"/admin/catalog/categories/{child}",
        data=_form(name="绿茶 Green", parent_id="0", commission_rate="6", is_active=None),
    )

    assert moved_down.status_code == 422 and "Not a valid choice." in moved_down.text
    assert _get(app, Category, parent).parent_id is None
    assert edited.status_code == 302
    green = _get(app, Category, child)
    assert (green.name, green.parent_id, green.depth, green.commission_rate_bp, green.is_active) == (
        "绿茶 Green",
        None,
        0,
        600,
        False,
    )
    form = admin.get(f"/admin/catalog/categories/{child}")
    assert 'value="6.00"' in form.text


def test_attributes_editor_saves_specs_from_commas_and_lines(app, admin):
    category_id = _category(app, "T恤")

    response = admin.post(
        f"/admin/catalog/categories/{category_id}/attributes",
        data={
            "attributes-0-name": "颜色",
            "attributes-0-values": "红, 蓝，白、红",
            "attributes-0-is_spec": "y",
            "attributes-1-name": "尺码",
            "attributes-1-values": "S\nM\r\nL\n",
            "attributes-1-is_spec": "y",
            "attributes-2-name": "材质",
            "attributes-2-values": "棉",
            "attributes-3-name": "",
            "attributes-3-values": "",
            "attributes-3-is_spec": "y",
        },
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert 'id="attributes"' in response.text and "</html>" not in response.text
    assert "Attributes saved." in response.text
    with app.app_context():
        rows = db.session.scalars(select(CategoryAttribute).order_by(CategoryAttribute.position)).all()
        assert [(a.name, a.values, a.is_spec) for a in rows] == [
            ("颜色", ["红", "蓝", "白"], True),
            ("尺码", ["S", "M", "L"], True),
            ("材质", ["棉"], False),
        ]


def test_bad_attributes_show_field_messages_and_keep_the_old_ones(app, admin):
    category_id = _category(app, "T恤")
    admin.post(
        f"/admin/catalog/categories/{category_id}/attributes",
        data={"attributes-0-name": "颜色", "attributes-0-values": "红", "attributes-0-is_spec": "y"},
    )

    response = admin.post(
        f"/admin/catalog/categories/{category_id}/attributes",
        data={
            "attributes-0-name": "尺码",
            "attributes-0-values": "",
            "attributes-0-is_spec": "y",
            "attributes-1-name": "",
            "attributes-1-values": "棉",
            "attributes-2-name": "产地",
            "attributes-2-values": "杭州",
            "attributes-3-name": "产地",
            "attributes-3-values": "上海",
        },
    )

    assert response.status_code == 422
    for message in (
        "A spec needs at least one value.",
        "Name the attribute, or clear its values.",
        "Each attribute name only once.",
    ):
        assert f'<small class="field-error">{message}</small>' in response.text
    with app.app_context():
        assert [(a.name, a.values) for a in db.session.scalars(select(CategoryAttribute))] == [
            ("颜色", ["红"])
        ]


def test_a_category_in_use_is_not_deleted(app, admin):
    parent = _category(app, "茶叶")
    _category(app, "绿茶", parent_id=parent)
    used = _category(app, "茶具")
    empty = _category(app, "空")
    shop = make_merchant(app)
    with app.app_context(), acting_as(SYSTEM):
        create_product(
            db.session,
            tenant_id=shop.id,
            data=ProductInput(title="茶杯", category_id=used, skus=[SkuInput({}, "CUP", 1000)]),
            actor_id=None,
        )
        db.session.commit()

    with_child = admin.post(f"/admin/catalog/categories/{parent}/delete", follow_redirects=True)
    with_product = admin.post(f"/admin/catalog/categories/{used}/delete", follow_redirects=True)
    deleted = admin.post(f"/admin/catalog/categories/{empty}/delete")

    assert "The category still has 1 product(s) or subcategories." in with_child.text
    assert "The category still has 1 product(s) or subcategories." in with_product.text
    assert deleted.status_code == 302
    assert _get(app, Category, parent) is not None and _get(app, Category, used) is not None
    assert _get(app, Category, empty) is None


# --- brands ---------------------------------------------------------------------------------------


def test_admin_creates_and_renames_brands_and_a_duplicate_is_refused(app, admin):
    created = admin.post("/admin/catalog/brands/new", data={"name": "西湖", "name_en": "West Lake"})
    duplicate = admin.post("/admin/catalog/brands/new", data={"name": " 西湖 ", "name_en": "Again"})
    with app.app_context():
        brand_id = db.session.scalar(select(Brand.id))
    other = admin.post("/admin/catalog/brands/new", data={"name": "龙井"})
    rename_clash = admin.post(f"/admin/catalog/brands/{brand_id}", data={"name": "龙井"})
    renamed = admin.post(f"/admin/catalog/brands/{brand_id}", data={"name": "西湖牌", "name_en": "West Lake"})

    assert created.status_code == 302 and other.status_code == 302
    assert duplicate.status_code == 422
    assert '<small class="field-error">This brand exists already.</small>' in duplicate.text
    assert rename_clash.status_code == 422 and "This brand exists already." in rename_clash.text
    assert renamed.status_code == 302
    with app.app_context():
        assert sorted(db.session.scalars(select(Brand.name))) == ["西湖牌", "龙井"]
    page = admin.get("/admin/catalog/brands")
    assert "西湖牌" in page.text and "West Lake" in page.text


def test_viewing_needs_catalog_view_and_changing_needs_catalog_manage(app):
    category_id = _category(app, "茶叶")
    with app.app_context(), acting_as(SYSTEM):
        save_role(
            db.session,
            kind=UserKind.STAFF,
            name="Catalogue readers",
            permissions=["catalog.view"],
            code="reader",
        )
        db.session.commit()
    reader, outsider = app.test_client(), app.test_client()
    login(reader, make_user(app, UserKind.STAFF, role="reader"))
    login(outsider, make_user(app, UserKind.STAFF, role="finance"))

    assert reader.get("/admin/catalog/categories").status_code == 200
    assert reader.get(f"/admin/catalog/categories/{category_id}").status_code == 200
    assert reader.get("/admin/catalog/brands").status_code == 200
    assert reader.post(f"/admin/catalog/categories/{category_id}", data=_form(name="改")).status_code == 403
    assert reader.post("/admin/catalog/categories/new", data=_form()).status_code == 403
    assert reader.post(f"/admin/catalog/categories/{category_id}/delete").status_code == 403
    assert reader.post("/admin/catalog/brands/new", data={"name": "X"}).status_code == 403
    assert outsider.get("/admin/catalog/categories").status_code == 403
    assert outsider.get("/admin/catalog/brands").status_code == 403
    assert _get(app, Category, category_id).name == "茶叶"
    assert _count(app, Brand) == 0
