"""The admin portal's IP allowlist: empty means open, and an admin can never shut themself out."""

from __future__ import annotations

import ipaddress

from sqlalchemy import select

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.identity.models import AdminIpRule, LoginAttempt, UserKind
from marketplace.identity.services import add_ip_rule
from tests.factories import login, make_user
from tests.page_helpers import english_client, field_errors, flashes

OFFICE = "10.1.2.3"
OUTSIDE = "192.0.2.9"
ALLOWLIST = "/admin/security/ip-allowlist"


def _rules(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(r.cidr, r.note) for r in db.session.scalars(select(AdminIpRule).order_by(AdminIpRule.id))]


def _admin_signed_in_from(app, ip: str):
    admin = make_user(app, UserKind.STAFF)
    client = english_client(app, remote_addr=ip)
    assert login(client, admin).status_code == 302
    return admin, client


def _given_rules(app, *cidrs: str) -> list[int]:
    """Ranges already on the list, added through the service (each by someone inside it)."""
    with app.app_context(), acting_as(SYSTEM):
        rules = [
            add_ip_rule(
                db.session,
                cidr=cidr,
                note="",
                current_ip=str(ipaddress.ip_network(cidr).network_address),
                created_by_id=None,
            )
            for cidr in cidrs
        ]
        db.session.commit()
        return [rule.id for rule in rules]


def test_with_an_empty_list_every_address_gets_in(app):
    admin = make_user(app, UserKind.STAFF)

    for ip in (OFFICE, OUTSIDE, "2001:db8::1"):
        client = english_client(app, remote_addr=ip)
        assert client.get("/admin/login").status_code == 200, ip
        assert login(client, admin).status_code == 302, ip
        assert client.get("/admin/").status_code == 200, ip


def test_admin_adds_a_range_covering_their_address_and_outsiders_are_shut_out(app):
    admin, client = _admin_signed_in_from(app, OFFICE)

    response = client.post(ALLOWLIST, data={"cidr": "10.0.0.0/8", "note": "office VPN"})

    assert response.status_code == 302
    assert response.headers["Location"] == ALLOWLIST
    with app.app_context():
        [rule] = db.session.scalars(select(AdminIpRule)).all()
        assert (rule.cidr, rule.note, rule.created_by_id) == ("10.0.0.0/8", "office VPN", admin.id)
    assert client.get("/admin/").status_code == 200
    assert english_client(app, remote_addr="10.200.0.1").get("/admin/login").status_code == 200
    outsider = english_client(app, remote_addr=OUTSIDE).get("/admin/login")
    assert outsider.status_code == 403
    assert f"The admin portal is not open to your address ({OUTSIDE})." in outsider.text


def test_right_credentials_from_outside_the_list_sign_nobody_in(app):
    _given_rules(app, "10.0.0.0/8")
    admin = make_user(app, UserKind.STAFF)
    outsider = english_client(app, remote_addr=OUTSIDE)

    response = login(outsider, admin)

    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalars(select(LoginAttempt)).all() == []
    assert english_client(app, remote_addr=OUTSIDE).get("/admin/").status_code == 403


def test_a_signed_in_admin_leaving_the_range_is_shut_out(app):
    _, client = _admin_signed_in_from(app, OFFICE)
    _given_rules(app, "10.0.0.0/8")

    client.environ_base["REMOTE_ADDR"] = OUTSIDE

    assert client.get("/admin/").status_code == 403


def test_the_list_only_guards_the_admin_portal(app):
    _given_rules(app, "10.0.0.0/8")
    shopper = make_user(app, UserKind.SHOPPER)
    client = english_client(app, remote_addr=OUTSIDE)

    assert login(client, shopper).status_code == 302
    assert client.get("/account").status_code == 200


def test_first_range_that_leaves_out_the_admin_is_refused(app):
    _, client = _admin_signed_in_from(app, OFFICE)

    response = client.post(ALLOWLIST, data={"cidr": "192.168.0.0/16", "note": ""})

    assert response.status_code == 422
    assert field_errors(response.text) == [
        f"This change would shut out your own address ({OFFICE}). Add a rule that covers it first."
    ]
    assert _rules(app) == []
    assert english_client(app, remote_addr=OUTSIDE).get("/admin/login").status_code == 200


def test_more_ranges_may_be_added_once_the_admin_is_covered(app):
    _given_rules(app, "10.0.0.0/8")
    _, client = _admin_signed_in_from(app, OFFICE)

    response = client.post(ALLOWLIST, data={"cidr": "203.0.113.0/24", "note": "branch"})

    assert response.status_code == 302
    assert _rules(app) == [("10.0.0.0/8", ""), ("203.0.113.0/24", "branch")]


def test_removing_the_last_range_that_covers_the_admin_is_refused(app):
    [office, branch] = _given_rules(app, "10.0.0.0/8", "203.0.113.0/24")
    _, client = _admin_signed_in_from(app, OFFICE)

    response = client.post(f"{ALLOWLIST}/{office}/delete")

    assert response.status_code == 302
    assert flashes(client.get(ALLOWLIST).text) == [
        ("error", f"This change would shut out your own address ({OFFICE}). Add a rule that covers it first.")
    ]
    assert _rules(app) == [("10.0.0.0/8", ""), ("203.0.113.0/24", "")]
    assert client.get("/admin/").status_code == 200


def test_removing_a_range_that_does_not_cover_the_admin_works(app):
    [_, branch] = _given_rules(app, "10.0.0.0/8", "203.0.113.0/24")
    _, client = _admin_signed_in_from(app, OFFICE)

    response = client.post(f"{ALLOWLIST}/{branch}/delete")

    assert response.status_code == 302
    assert flashes(client.get(ALLOWLIST).text) == [("success", "Range removed.")]
    assert _rules(app) == [("10.0.0.0/8", "")]


def test_an_invalid_range_is_refused_with_a_field_message(app):
    _, client = _admin_signed_in_from(app, OFFICE)

    response = client.post(ALLOWLIST, data={"cidr": "10.0.0.0/33", "note": ""})

    assert response.status_code == 422
    assert field_errors(response.text) == ["'10.0.0.0/33' is not an IP address or CIDR range."]
    assert _rules(app) == []


def test_a_duplicate_range_is_refused(app):
    _given_rules(app, "10.0.0.0/8")
    _, client = _admin_signed_in_from(app, OFFICE)

    response = client.post(ALLOWLIST, data={"cidr": "10.9.9.9/8", "note": "same network"})

    assert response.status_code == 422
    assert field_errors(response.text) == ["10.0.0.0/8 is already on the list."]
    assert _rules(app) == [("10.0.0.0/8", "")]


def test_staff_without_security_manage_cannot_change_the_list(app):
    finance = make_user(app, UserKind.STAFF, role="finance")
    client = english_client(app, remote_addr=OFFICE)
    login(client, finance)

    page = client.get(ALLOWLIST)
    response = client.post(ALLOWLIST, data={"cidr": "10.0.0.0/8", "note": ""})

    assert (page.status_code, response.status_code) == (403, 403)
    assert _rules(app) == []


def test_an_ipv4_client_seen_through_a_dual_stack_socket_is_matched_as_ipv4(app):
    """A server listening on [::] reports IPv4 callers as ::ffff:a.b.c.d; the ranges still apply."""
    _given_rules(app, "10.0.0.0/8")
    admin = make_user(app, UserKind.STAFF)
    inside = english_client(app, remote_addr=f"::ffff:{OFFICE}")
    outside = english_client(app, remote_addr=f"::ffff:{OUTSIDE}")

    assert login(inside, admin).status_code == 302
    assert inside.get("/admin/").status_code == 200
    assert outside.get("/admin/login").status_code == 403
