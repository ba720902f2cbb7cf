"""Shop settings and shipping templates in the merchant portal; the shipping fee arithmetic checkout uses."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from marketplace.core.audit import SYSTEM, AuditEntry, acting_as
from marketplace.extensions import db
from marketplace.identity.models import UserKind
from marketplace.merchants.models import Merchant, ShippingRule, ShippingTemplate
from marketplace.merchants.queries import default_shipping_template
from marketplace.merchants.services import Fees, quote_shipping, save_shipping_rule, save_shipping_template
from tests.factories import login, make_merchant, make_user
from tests.page_helpers import english_client, field_errors, flashes

XINJIANG, TIBET, GUANGDONG, SHANGHAI = "650000", "540000", "440000", "310000"


@pytest.fixture(autouse=True)
def media_dir(app, tmp_path, monkeypatch) -> Path:
    monkeypatch.setitem(app.config, "MEDIA_DIR", str(tmp_path / "media"))
    return tmp_path / "media"


@pytest.fixture
def shop(app) -> Merchant:
    return make_merchant(app, "Green Hill")


@pytest.fixture
def owner_client(app, shop):
    owner = make_user(app, UserKind.MERCHANT, tenant=shop, is_owner=True)
    browser = english_client(app)
    assert login(browser, owner).status_code == 302
    return browser


def _png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 320), (30, 120, 60)).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def _settings(**overrides):
    data = {
        "name": "Green Hill Tea",
        "description": "Tea from our own hills.",
        "service_phone": "400-820-8820",
        "service_email": "Service@GreenHill.test",
        "service_hours": "Mon–Fri 9:00–18:00",
        "return_name": "Returns desk",
        "return_phone": "021-5555-0101",
        "return_address": "上海市徐汇区漕溪北路 1 号",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _merchant(app, shop: Merchant) -> Merchant:
    with app.app_context():
        return db.session.get(Merchant, shop.id)


def _templates(app, shop: Merchant) -> list[ShippingTemplate]:
    with app.app_context():
        stmt = (
            select(ShippingTemplate)
            .where(ShippingTemplate.tenant_id == shop.id)
            .order_by(ShippingTemplate.id)
        )
        return list(db.session.scalars(stmt))


def _template(app, template_id: int) -> ShippingTemplate | None:
    with app.app_context():
        return db.session.get(ShippingTemplate, template_id)


def _make_template(app, shop: Merchant, name: str = "Standard", **fees) -> ShippingTemplate:
    values = {"first_weight_g": 1000, "first_fee": 1000, "additional_weight_g": 1000, "additional_fee": 500}
    values.update(fees)
    with app.app_context(), acting_as(SYSTEM):
        template = save_shipping_template(
            db.session,
            tenant_id=shop.id,
            name=name,
            fees=Fees(**values),
            free_shipping_threshold=None,
            is_default=False,
        )
        db.session.commit()
        return template


# --- shop settings ----------------------------------------------------------------------------


def test_the_owner_saves_the_shop_settings_and_they_are_audited(app, shop, owner_client):
    response = owner_client.post(
        "/merchant/shop",
        data={**_settings(), "logo": (_png(), "logo.png")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    assert flashes(owner_client.get(response.headers["Location"]).text) == [
        ("success", "Shop settings saved.")
    ]
    saved = _merchant(app, shop)
    assert (saved.name, saved.description, saved.service_email, saved.return_address) == (
        "Green Hill Tea",
        "Tea from our own hills.",
        "service@greenhill.test",
        "上海市徐汇区漕溪北路 1 号",
    )
    assert saved.logo_key
    page = owner_client.get("/merchant/shop").text
    assert f"/media/{saved.logo_key}/medium" in page
    logo = owner_client.get(f"/media/{saved.logo_key}/medium")
    assert logo.status_code == 200 and logo.mimetype == "image/jpeg"
    with app.app_context():
        [entry] = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "merchants.update", AuditEntry.object_id == str(shop.id)
            )
        )
        assert entry.tenant_id == shop.id
        assert entry.changes["name"] == ["Green Hill", "Green Hill Tea"]
        assert entry.changes["description"] == ["", "Tea from our own hills."]
    assert "merchants.update" in owner_client.get("/merchant/audit").text


def test_invalid_shop_settings_change_nothing(app, shop, owner_client):
    make_merchant(app, "Taken Name")

    bad_email = owner_client.post("/merchant/shop", data=_settings(service_email="nope"))
    taken = owner_client.post("/merchant/shop", data=_settings(name="taken name"))

    assert bad_email.status_code == 422
    assert "Invalid email address." in field_errors(bad_email.text)
    assert taken.status_code == 422
    assert "This shop name is already taken or applied for." in field_errors(taken.text)
    unchanged = _merchant(app, shop)
    assert (unchanged.name, unchanged.description) == ("Green Hill", "")


def test_a_logo_that_is_not_an_image_is_refused(app, shop, owner_client, media_dir):
    response = owner_client.post(
        "/merchant/shop",
        data={**_settings(), "logo": (io.BytesIO(b"<svg onload=alert(1)>"), "logo.png")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 422
    assert "The file was refused: not a JPEG, PNG, WebP or GIF image." in field_errors(response.text)
    assert _merchant(app, shop).logo_key is None
    assert _merchant(app, shop).name == "Green Hill"


def test_an_operator_sees_the_settings_but_cannot_change_them(app, shop):
    operator = make_user(app, UserKind.MERCHANT, tenant=shop, role="operator")  # shop.view only
    browser = english_client(app)
    login(browser, operator)
    template = _make_template(app, shop)

    page = browser.get("/merchant/shop")
    save = browser.post("/merchant/shop", data=_settings())
    template_page = browser.get(f"/merchant/shipping-templates/{template.id}")
    template_save = browser.post(f"/merchant/shipping-templates/{template.id}", data={"name": "Mine"})

    assert page.status_code == 200 and "disabled" in page.text
    assert save.status_code == 403
    assert template_page.status_code == 200
    assert template_save.status_code == 403
    assert _merchant(app, shop).name == "Green Hill"
    assert _template(app, template.id).name == "Standard"


# --- shipping templates -----------------------------------------------------------------------


def _template_form(**overrides):
    data = {
        "name": "Standard",
        "first_weight_g": "1000",
        "first_fee": "10",
        "additional_weight_g": "500",
        "additional_fee": "5.50",
        "free_shipping_threshold": "99",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_shipping_templates_are_created_edited_and_deleted(app, shop, owner_client):
    created = owner_client.post("/merchant/shipping-templates/new", data=_template_form())

    assert created.status_code == 302
    [first] = _templates(app, shop)
    assert created.headers["Location"] == f"/merchant/shipping-templates/{first.id}"
    assert (first.first_weight_g, first.first_fee, first.additional_weight_g, first.additional_fee) == (
        1000,
        1000,
        500,
        550,
    )
    assert first.free_shipping_threshold == 9900
    assert first.is_default  # the shop's first template is its default
    page = owner_client.get(created.headers["Location"]).text
    assert 'value="5.50"' in page and 'value="99.00"' in page

    edited = owner_client.post(
        f"/merchant/shipping-templates/{first.id}",
        data=_template_form(name="Standard parcel", first_fee="12.30", free_shipping_threshold=""),
    )
    assert edited.status_code == 302
    first = _template(app, first.id)
    assert (first.name, first.first_fee, first.free_shipping_threshold) == ("Standard parcel", 1230, None)

    second = owner_client.post(
        "/merchant/shipping-templates/new", data=_template_form(name="Heavy goods", is_default="y")
    )
    assert second.status_code == 302
    first, heavy = _templates(app, shop)
    assert (first.is_default, heavy.is_default) == (False, True)

    listing = owner_client.get("/merchant/shipping-templates").text
    assert "Standard parcel" in listing and "Heavy goods" in listing

    deleted = owner_client.post(f"/merchant/shipping-templates/{heavy.id}/delete")
    assert deleted.status_code == 302
    [remaining] = _templates(app, shop)
    assert remaining.id == first.id and remaining.is_default  # the default moves to what is left
    with app.app_context():
        assert default_shipping_template(db.session, shop.id).id == first.id
        actions = select(AuditEntry.action).where(AuditEntry.object_type == "shipping_templates")
        assert list(db.session.scalars(actions)).count("shipping_templates.delete") == 1


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"first_fee": "1.234"}, "Enter an amount in yuan with at most two decimals, like 12.50."),
        ({"additional_fee": "-1"}, "Enter an amount in yuan with at most two decimals, like 12.50."),
        (
            {"free_shipping_threshold": "lots"},
            "Enter an amount in yuan with at most two decimals, like 12.50.",
        ),
        ({"first_weight_g": "0"}, "Enter whole grams above zero."),
        ({"additional_weight_g": ""}, "This field is required."),
        ({"name": ""}, "This field is required."),
    ],
)
def test_an_invalid_template_is_refused_and_nothing_is_saved(app, shop, owner_client, overrides, error):
    response = owner_client.post("/merchant/shipping-templates/new", data=_template_form(**overrides))

    assert response.status_code == 422
    assert error in field_errors(response.text)
    assert _templates(app, shop) == []


def test_template_names_are_unique_within_a_shop(app, shop, owner_client):
    _make_template(app, shop, "Standard")
    _make_template(app, make_merchant(app), "Express")  # another shop's name is no obstacle

    taken = owner_client.post("/merchant/shipping-templates/new", data=_template_form(name="Standard"))
    free = owner_client.post("/merchant/shipping-templates/new", data=_template_form(name="Express"))

    assert taken.status_code == 422
    assert "The shop already has a shipping template with this name." in field_errors(taken.text)
    assert free.status_code == 302
    assert [t.name for t in _templates(app, shop)] == ["Standard", "Express"]


def _rule_form(**overrides):
    data = {
        "region_name": "Far west",
        "provinces": [XINJIANG, TIBET],
        "first_weight_g": "1000",
        "first_fee": "20",
        "additional_weight_g": "1000",
        "additional_fee": "15",
    }
    data.update(overrides)
    return data


def test_regions_are_added_changed_and_removed(app, shop, owner_client):
    template = _make_template(app, shop)
    base = f"/merchant/shipping-templates/{template.id}"

    added = owner_client.post(f"{base}/rules", data=_rule_form())
    [rule] = _template(app, template.id).rules
    clash = owner_client.post(
        f"{base}/rules", data=_rule_form(region_name="West", provinces=[TIBET, GUANGDONG])
    )
    none = owner_client.post(f"{base}/rules", data=_rule_form(provinces=[]))
    changed = owner_client.post(
        f"{base}/rules/{rule.id}",
        data=_rule_form(provinces=[XINJIANG], first_fee="25", additional_fee="18.5"),
    )

    assert added.status_code == 302
    assert (rule.region_name, rule.provinces, rule.first_fee, rule.additional_fee) == (
        "Far west",
        [TIBET, XINJIANG],
        2000,
        1500,
    )
    assert clash.status_code == 422
    assert "Already in another region: Tibet." in field_errors(clash.text)
    assert none.status_code == 422
    assert "Choose at least one province." in field_errors(none.text)
    assert changed.status_code == 302
    [rule] = _template(app, template.id).rules
    assert (rule.provinces, rule.first_fee, rule.additional_fee) == ([XINJIANG], 2500, 1850)
    assert owner_client.get(f"{base}/rules/{rule.id}").status_code == 200

    removed = owner_client.post(f"{base}/rules/{rule.id}/delete")
    assert removed.status_code == 302
    assert _template(app, template.id).rules == []


def test_the_fee_calculator_answers_with_an_htmx_fragment(app, shop, owner_client):
    template = _make_template(app, shop)

    response = owner_client.get(
        f"/merchant/shipping-templates/{template.id}/quote?province={SHANGHAI}&weight_g=2100&goods=50",
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "</html>" not in response.text
    assert "¥20.00" in response.text  # 10 + 2 started kilos of 5


# --- tenant isolation -------------------------------------------------------------------------


def test_another_shops_templates_are_404_and_stay_unchanged(app, shop, owner_client):
    other = make_merchant(app, "Other Shop")
    theirs = _make_template(app, other, "Theirs")
    with app.app_context(), acting_as(SYSTEM):
        template = db.session.get(ShippingTemplate, theirs.id)
        rule = save_shipping_rule(
            db.session, template, region_name="West", provinces=[TIBET], fees=Fees(1000, 2000, 1000, 1000)
        )
        db.session.commit()
        rule_id = rule.id
    mine = _make_template(app, shop, "Mine")
    base = f"/merchant/shipping-templates/{theirs.id}"

    responses = {
        "view": owner_client.get(base),
        "quote": owner_client.get(f"{base}/quote?province={TIBET}&weight_g=1&goods=0"),
        "save": owner_client.post(base, data=_template_form(name="Hijacked")),
        "delete": owner_client.post(f"{base}/delete"),
        "add rule": owner_client.post(f"{base}/rules", data=_rule_form(provinces=[GUANGDONG])),
        "view rule": owner_client.get(f"{base}/rules/{rule_id}"),
        "save rule": owner_client.post(f"{base}/rules/{rule_id}", data=_rule_form()),
        "delete rule": owner_client.post(f"{base}/rules/{rule_id}/delete"),
        "their rule under my template": owner_client.post(
            f"/merchant/shipping-templates/{mine.id}/rules/{rule_id}/delete"
        ),
    }

    assert {name: r.status_code for name, r in responses.items()} == {name: 404 for name in responses}
    after = _template(app, theirs.id)
    assert after is not None
    assert (after.name, after.first_fee, after.tenant_id) == ("Theirs", 1000, other.id)
    assert [(r.id, r.provinces) for r in after.rules] == [(rule_id, [TIBET])]
    assert "Theirs" not in owner_client.get("/merchant/shipping-templates").text


# --- the arithmetic checkout relies on ---------------------------------------------------------


def _quote_template(threshold: int | None = None) -> ShippingTemplate:
    """In memory: 1 kg for ¥10, then ¥5 per started 500 g; Xinjiang and Tibet 1 kg ¥20, then ¥15 per kg."""
    return ShippingTemplate(
        name="t",
        first_weight_g=1000,
        first_fee=1000,
        additional_weight_g=500,
        additional_fee=500,
        free_shipping_threshold=threshold,
        rules=[
            ShippingRule(
                region_name="Far west",
                provinces=[XINJIANG, TIBET],
                first_weight_g=1000,
                first_fee=2000,
                additional_weight_g=1000,
                additional_fee=1500,
            )
        ],
    )


@pytest.mark.parametrize(
    ("weight_g", "fee"),
    [
        (0, 1000),
        (1, 1000),
        (1000, 1000),  # exactly the first weight
        (1001, 1500),  # one gram over starts a step
        (1500, 1500),
        (1501, 2000),
        (3200, 3500),  # 2200 g over: 5 started steps of 500 g
    ],
)
def test_first_weight_and_additional_steps_rounded_up(weight_g, fee):
    assert quote_shipping(_quote_template(), SHANGHAI, weight_g, goods_amount=100) == fee


@pytest.mark.parametrize("province", [XINJIANG, "新疆维吾尔自治区", "西藏", "Tibet", "650102"])
def test_a_region_uses_its_own_fees(province):
    # 2500 g: first kilo ¥20, then 2 started kilos of ¥15.
    assert quote_shipping(_quote_template(), province, 2500, goods_amount=100) == 5000


@pytest.mark.parametrize("province", [GUANGDONG, "广东省", "unknown place", ""])
def test_other_provinces_pay_the_template_fees(province):
    assert quote_shipping(_quote_template(), province, 2500, goods_amount=100) == 1000 + 3 * 500


def test_the_free_shipping_threshold_applies_from_its_amount_on():
    template = _quote_template(threshold=9900)

    assert quote_shipping(template, SHANGHAI, 5000, goods_amount=9899) == 1000 + 8 * 500
    assert quote_shipping(template, SHANGHAI, 5000, goods_amount=9900) == 0
    assert quote_shipping(template, XINJIANG, 5000, goods_amount=10000) == 0
    assert quote_shipping(_quote_template(threshold=None), SHANGHAI, 1000, goods_amount=10**9) == 1000


def test_negative_weights_and_amounts_are_programming_errors():
    with pytest.raises(ValueError):
        quote_shipping(_quote_template(), SHANGHAI, -1, goods_amount=0)
    with pytest.raises(ValueError):
        quote_shipping(_quote_template(), SHANGHAI, 1, goods_amount=-1)
