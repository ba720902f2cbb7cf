"""Looking an order up by its number and the phone or e-mail used: the right pair shows the order's progress
with the address masked and nothing else; a wrong number and a wrong contact get the same answer and reveal
nothing; and one address cannot keep guessing."""

from __future__ import annotations

import re

from sqlalchemy import select

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.orders import account
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from tests.factories import make_merchant
from tests.orders.order_helpers import place, place_paid, shopper_with_address, stocked_sku
from tests.page_helpers import english_client

LOOKUP = "/orders/lookup"


def _placed_order(app, *, shipped: bool = False, email: str = "Lin.Tao@Example.test"):
    shop = make_merchant(app)
    sku = stocked_sku(app, shop, title="Pu'er cake")
    shopper, address = shopper_with_address(app, phone="13800138000", email=email)
    if not shipped:
        return place(app, shopper, address, [(sku, 1)]).order_numbers[0]
    number = place_paid(app, shopper, address, [(sku, 1)]).order_numbers[0]
    with app.app_context(), acting_as(SYSTEM):
        order = db.session.scalar(select(Order).where(Order.number == number))
        orders.change_delivery(db.session, order, actor=orders.SYSTEM, note_text="Ring twice, gate code 4711")
        orders.ship_order(
            db.session, order, quantities=None, carrier="ZTO", waybill_no="ZTO77001122", actor=orders.SYSTEM
        )
        db.session.commit()
    return number


def _without_tokens(page: str) -> str:
    return re.sub(r'(csrf[-_]token"?[^>]*?(value|content)=|X-CSRFToken": ")"?[^"]+', "", page)


def test_the_right_phone_shows_the_progress_with_the_address_masked_and_nothing_else(app):
    number = _placed_order(app, shipped=True)
    guest = english_client(app)

    response = guest.post(LOOKUP, data={"number": number, "contact": " 138-0013-8000 "})
    page = response.text

    assert response.status_code == 200
    assert number in page and "Shipped" in page and "Pu&#39;er cake" in page
    assert "ZTO" in page and "ZTO77001122" in page  # tracking
    assert "Order placed" in page and "Paid" in page  # history steps with their times
    assert "L**" in page and "138****8000" in page  # masked recipient and phone
    assert "Li Lei" not in page and "13800138000" not in page and "1 Test Road" not in page
    assert "gate code" not in page and "lin.tao" not in page.lower()  # no note, no e-mail
    assert "Cancel" not in page and "Confirm receipt" not in page and "Write a review" not in page
    assert "/account/orders/" not in page  # no way into the member's pages or other orders


def test_the_e_mail_matches_trimmed_and_in_any_case(app):
    number = _placed_order(app)
    guest = english_client(app)

    response = guest.post(LOOKUP, data={"number": f" {number} ", "contact": "  lin.tao@EXAMPLE.test "})

    assert response.status_code == 200 and "Awaiting payment" in response.text


def test_a_wrong_contact_and_a_wrong_number_get_the_same_answer_and_no_order_data(app):
    number = _placed_order(app, shipped=True)
    other_number = str(int(number) + 1)
    guest = english_client(app)

    wrong_contact = guest.post(LOOKUP, data={"number": number, "contact": "13800138001"})
    wrong_number = guest.post(LOOKUP, data={"number": other_number, "contact": "13800138000"})
    no_contact = guest.post(LOOKUP, data={"number": number, "contact": ""})

    assert wrong_contact.status_code == wrong_number.status_code == no_contact.status_code == 404
    assert "No order matches this number and phone or e-mail." in wrong_contact.text
    same_page = _without_tokens(wrong_contact.text).replace(number, "N")
    assert same_page == _without_tokens(wrong_number.text).replace(other_number, "N")
    for page in (wrong_contact.text, no_contact.text):
        for secret in ("Pu&#39;er cake", "ZTO77001122", "Shipped", "L**", "138****8000", "Order placed"):
            assert secret not in page


def test_an_order_with_no_e_mail_is_not_opened_by_an_empty_or_blank_contact(app):
    shop = make_merchant(app)
    sku = stocked_sku(app, shop)
    shopper, address = shopper_with_address(app)
    number = place(app, shopper, address, [(sku, 1)]).order_numbers[0]
    with app.app_context():
        db.session.execute(Order.__table__.update().values(email=""))
        db.session.commit()
        assert account.lookup_order(db.session, number, "") is None
        assert account.lookup_order(db.session, number, "   ") is None
        assert account.lookup_order(db.session, number, "13800138000").number == number
        assert account.lookup_order(db.session, "not-a-number", "13800138000") is None


def test_an_address_gets_a_few_tries_per_window_then_even_the_right_pair_waits(app):
    number = _placed_order(app)
    guesser = english_client(app, remote_addr="203.0.113.9")
    neighbour = english_client(app, remote_addr="203.0.113.10")

    answers = [
        guesser.post(LOOKUP, data={"number": number, "contact": f"1380013{i:04d}"}).status_code
        for i in range(account.LOOKUP_LIMIT)
    ]
    blocked = guesser.post(LOOKUP, data={"number": number, "contact": "13800138000"})
    other = neighbour.post(LOOKUP, data={"number": number, "contact": "13800138000"})

    assert answers == [404] * account.LOOKUP_LIMIT
    assert (
        blocked.status_code == 429 and "Too many look-ups" in blocked.text and "Pu&#39;er" not in blocked.text
    )
    assert other.status_code == 200  # another address is not held back
    assert 0 < app.extensions["redis"].ttl("orders:lookup:203.0.113.9") <= account.LOOKUP_WINDOW_SECONDS


def test_the_lookup_form_is_public(app):
    page = english_client(app).get(LOOKUP)
    assert page.status_code == 200 and 'name="contact"' in page.text and 'name="number"' in page.text


def test_masks():
    assert account.mask_phone("13800138000") == "138****8000"
    assert account.mask_phone("021-5555") == "021*5555"
    assert account.mask_phone("12345") == "***45"
    assert account.mask_name("张伟") == "张**" and account.mask_name("") == "**"
