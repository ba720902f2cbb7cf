"""Merchant onboarding: the public application, the admin review queue, approval, rejection, resubmission."""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from marketplace.catalog.services import save_category
from marketplace.core.audit import SYSTEM, AuditEntry, acting_as
from marketplace.core.jobs import OutboxMessage
from marketplace.extensions import db
from marketplace.identity.models import User, UserKind
from marketplace.merchants.models import ApplicationStatus, Merchant, MerchantApplication
from marketplace.notifications.models import SentMessage
from tests.factories import login, make_merchant, make_user
from tests.jobs_helpers import run_jobs
from tests.page_helpers import english_client, field_errors, flashes

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
LICENCE_NUMBER = "91310000MA1FL1XX0A"
OWNER_PASSWORD = "my-own-shop-passphrase"
RESET_LINK = re.compile(r"https?://\S+/merchant/reset-password\?token=\S+")
STATUS_LINK = re.compile(r"https?://\S+/apply/[A-Za-z0-9_\-]+")


@pytest.fixture(autouse=True)
def media_dir(app, tmp_path, monkeypatch) -> Path:
    """Uploaded documents of each test go to a folder of their own."""
    monkeypatch.setitem(app.config, "MEDIA_DIR", str(tmp_path / "media"))
    return tmp_path / "media"


@pytest.fixture
def client(app):
    return english_client(app)


@pytest.fixture
def admin_client(app):
    admin = make_user(app, UserKind.STAFF)
    browser = english_client(app)
    assert login(browser, admin).status_code == 302
    browser.admin = admin
    return browser


def _form(**overrides):
    data = {
        "company_name": "上海青竹贸易有限公司",
        "licence_number": LICENCE_NUMBER,
        "contact_name": "Chen Jing",
        "contact_phone": "13912345678",
        "email": "Chen@Example.test",
        "shop_name": "Bamboo Tea",
        "category_note": "Green and white tea from Anhui",
        "licence": (io.BytesIO(PDF), "licence.pdf"),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _apply(client, **overrides):
    return client.post("/apply", data=_form(**overrides), content_type="multipart/form-data")


def _applications(app) -> list[MerchantApplication]:
    with app.app_context():
        return list(db.session.scalars(select(MerchantApplication).order_by(MerchantApplication.id)))


def _application(app) -> MerchantApplication:
    [application] = _applications(app)
    return application


def _mail_to(app, address: str) -> list[SentMessage]:
    with app.app_context():
        stmt = select(SentMessage).where(SentMessage.recipient == address).order_by(SentMessage.id)
        return list(db.session.scalars(stmt))


def _stored_documents(media_dir: Path) -> list[Path]:
    folder = media_dir / "private"
    return sorted(folder.iterdir()) if folder.exists() else []


def _audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _submitted(app, client) -> MerchantApplication:
    response = _apply(client)
    assert response.status_code == 302, field_errors(response.text)
    client.get(response.headers["Location"])  # the status page shows (and consumes) the thank-you note
    return _application(app)


# --- applying ---------------------------------------------------------------------------------


def test_the_application_form_is_public(client):
    response = client.get("/apply")

    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in response.text
    assert "describe what you want to sell" in response.text  # no categories on the platform yet


def test_a_valid_application_is_saved_and_shows_its_status_page(app, client, media_dir):
    response = _apply(client)

    assert response.status_code == 302
    application = _application(app)
    assert response.headers["Location"] == f"/apply/{application.reference}"
    assert len(application.reference) >= 32
    assert application.status is ApplicationStatus.SUBMITTED
    assert (application.shop_name, application.email, application.licence_number) == (
        "Bamboo Tea",
        "chen@example.test",
        LICENCE_NUMBER,
    )
    [document] = _stored_documents(media_dir)
    assert document.name == application.licence_document_key
    assert document.read_bytes() == PDF
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert application.reference in page.text
    assert "Under review" in page.text
    run_jobs(app)
    [mail] = _mail_to(app, "chen@example.test")
    assert f"http://localhost/apply/{application.reference}" in mail.body


def test_a_status_page_of_an_unknown_reference_is_a_404(client):
    assert client.get("/apply/not-a-real-reference").status_code == 404


def test_the_applicant_picks_top_level_active_categories(app, client):
    with app.app_context(), acting_as(SYSTEM):
        tea = save_category(db.session, name="茶叶", name_en="Tea")
        save_category(db.session, name="绿茶", name_en="Green tea", parent_id=tea.id)
        save_category(db.session, name="停用", name_en="Retired", is_active=False)
        db.session.commit()

    page = client.get("/apply").text
    missing = _apply(client, category_note="")
    chosen = _apply(client, categories=[str(tea.id)])

    assert "Tea" in page and "Green tea" not in page and "Retired" not in page
    assert missing.status_code == 422
    assert "Choose at least one category." in field_errors(missing.text)
    assert chosen.status_code == 302
    assert _application(app).category_ids == [tea.id]


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"company_name": ""}, "This field is required."),
        (
            {"licence_number": "12345"},
            "Enter the 18-character unified social credit code of the business licence.",
        ),
        ({"contact_phone": "call me"}, "Enter a mobile or landline number."),
        ({"email": "not-an-email"}, "Invalid email address."),
        ({"shop_name": ""}, "This field is required."),
        ({"category_note": ""}, "Tell us what you want to sell."),
        ({"licence": None}, "Upload a scan or photo of the business licence."),
        ({"licence": (io.BytesIO(PDF), "licence.exe")}, "Only PDF, JPEG or PNG files are accepted."),
    ],
)
def test_an_invalid_application_is_refused_and_nothing_is_saved(app, client, media_dir, overrides, error):
    response = _apply(client, **overrides)

    assert response.status_code == 422
    assert error in field_errors(response.text)
    assert _applications(app) == []
    assert _stored_documents(media_dir) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_an_upload_whose_content_is_not_a_document_is_refused(app, client, media_dir):
    response = _apply(client, licence=(io.BytesIO(b"MZ\x90\x00 not really a pdf"), "licence.pdf"))

    assert response.status_code == 422
    assert "The file was refused: only PDF, JPEG or PNG documents are accepted." in field_errors(
        response.text
    )
    assert _applications(app) == []
    assert _stored_documents(media_dir) == []


def test_the_shop_name_must_be_free_among_shops_and_open_applications(app, client, media_dir):
    make_merchant(app, "Tea House")
    _submitted(app, client)

    taken_by_shop = _apply(client, shop_name=" tea house ")
    taken_by_application = _apply(client, shop_name="BAMBOO TEA")

    for response in (taken_by_shop, taken_by_application):
        assert response.status_code == 422
        assert "This shop name is already taken or applied for." in field_errors(response.text)
    assert len(_applications(app)) == 1
    assert len(_stored_documents(media_dir)) == 1


# --- the review queue -------------------------------------------------------------------------


def test_the_review_queue_lists_and_filters_applications(app, client, admin_client):
    _submitted(app, client)
    _apply(client, shop_name="Second Shop", email="second@example.test")
    second = _applications(app)[1]
    admin_client.post(f"/admin/applications/{second.id}/reject", data={"reject-reason": "Incomplete"})

    waiting = admin_client.get("/admin/applications")
    rejected = admin_client.get("/admin/applications?status=rejected", headers={"HX-Request": "true"})
    everything = admin_client.get("/admin/applications?status=all")

    assert waiting.status_code == 200
    assert "Bamboo Tea" in waiting.text and "Second Shop" not in waiting.text
    assert "Second Shop" in rejected.text and "Bamboo Tea" not in rejected.text
    assert "Bamboo Tea" in everything.text and "Second Shop" in everything.text


def test_the_reviewer_reads_every_field_and_downloads_the_licence(app, client, admin_client):
    application = _submitted(app, client)

    detail = admin_client.get(f"/admin/applications/{application.id}")
    licence = admin_client.get(f"/admin/applications/{application.id}/licence")

    assert detail.status_code == 200
    for value in ("上海青竹贸易有限公司", LICENCE_NUMBER, "Chen Jing", "13912345678", "chen@example.test"):
        assert value in detail.text
    assert licence.status_code == 200
    assert licence.data == PDF
    assert licence.mimetype == "application/pdf"
    assert licence.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in licence.headers["Cache-Control"]


def test_nobody_but_reviewers_reads_the_licence(app, client):
    application = _submitted(app, client)
    shop = make_merchant(app)
    merchant_owner = make_user(app, UserKind.MERCHANT, tenant=shop, is_owner=True)
    merchant_browser = english_client(app)
    login(merchant_browser, merchant_owner)
    editor = make_user(app, UserKind.STAFF, role="content_editor")
    editor_browser = english_client(app)
    login(editor_browser, editor)

    anonymous = client.get(f"/admin/applications/{application.id}/licence")
    as_merchant = merchant_browser.get(f"/admin/applications/{application.id}/licence")
    as_editor = editor_browser.get(f"/admin/applications/{application.id}/licence")

    assert anonymous.status_code == 302 and "/admin/login" in anonymous.headers["Location"]
    assert as_merchant.status_code == 302 and "/admin/login" in as_merchant.headers["Location"]
    assert as_editor.status_code == 403


def test_seeing_the_queue_does_not_allow_deciding(app, client):
    application = _submitted(app, client)
    finance = make_user(app, UserKind.STAFF, role="finance")  # merchants.view, not merchants.manage
    browser = english_client(app)
    login(browser, finance)

    detail = browser.get(f"/admin/applications/{application.id}")
    approve = browser.post(f"/admin/applications/{application.id}/approve")

    assert detail.status_code == 200
    assert "Approve and open the shop" not in detail.text
    assert approve.status_code == 403
    assert _application(app).status is ApplicationStatus.SUBMITTED


# --- decisions --------------------------------------------------------------------------------


def test_approval_opens_the_shop_and_the_owner_sets_a_password_from_the_mail(app, client, admin_client):
    application = _submitted(app, client)

    response = admin_client.post(
        f"/admin/applications/{application.id}/approve", data={"approve-note": "Licence checked"}
    )
    run_jobs(app)

    assert response.status_code == 302
    assert flashes(admin_client.get(response.headers["Location"]).text) == [
        ("success", "Bamboo Tea is approved and open.")
    ]
    approved = _application(app)
    assert approved.status is ApplicationStatus.APPROVED
    assert approved.reviewer_id == admin_client.admin.id
    with app.app_context():
        merchant = db.session.get(Merchant, approved.merchant_id)
        owner = db.session.scalar(select(User).where(User.kind == UserKind.MERCHANT))
        assert (merchant.name, merchant.contact_email, merchant.is_active) == (
            "Bamboo Tea",
            "chen@example.test",
            True,
        )
        assert (owner.email, owner.tenant_id, owner.is_owner) == ("chen@example.test", merchant.id, True)
        assert [role.code for role in owner.roles] == ["owner"]
    [entry] = _audit(app, "merchant_application.approve")
    assert (entry.actor_id, entry.reason, entry.tenant_id) == (
        admin_client.admin.id,
        "Licence checked",
        merchant.id,
    )

    mails = _mail_to(app, "chen@example.test")
    assert [m.subject for m in mails][1:] == [
        "Your shop is approved / 您的入驻申请已通过",
        "Reset your password / 重置密码",
    ]
    assert "http://localhost/merchant/login" in mails[1].body
    link = RESET_LINK.search(mails[2].body).group(0)
    token = link.split("token=", 1)[1]
    owner_browser = english_client(app)
    assert owner_browser.get(link).status_code == 200
    chosen = owner_browser.post(
        urlsplit(link).path, data={"token": token, "password": OWNER_PASSWORD, "confirm": OWNER_PASSWORD}
    )
    assert chosen.status_code == 302
    signed_in = owner_browser.post(
        "/merchant/login", data={"email": "chen@example.test", "password": OWNER_PASSWORD}
    )
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == "/merchant/"
    assert "Bamboo Tea" in owner_browser.get("/merchant/shop").text
    assert "Approved" in client.get(f"/apply/{application.reference}").text


def test_approval_needs_the_email_to_be_free_for_a_merchant_account(app, client, admin_client):
    application = _submitted(app, client)
    make_user(app, UserKind.MERCHANT, email="chen@example.test", tenant=make_merchant(app))

    response = admin_client.post(f"/admin/applications/{application.id}/approve")

    assert response.status_code == 302
    assert flashes(admin_client.get(response.headers["Location"]).text) == [
        ("error", "An account with this email already exists.")
    ]
    assert _application(app).status is ApplicationStatus.SUBMITTED
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Merchant)) == 1


def test_rejection_needs_a_reason_and_tells_the_applicant(app, client, admin_client):
    application = _submitted(app, client)
    url = f"/admin/applications/{application.id}/reject"

    without_reason = admin_client.post(url, data={"reject-reason": "  "})
    with_reason = admin_client.post(url, data={"reject-reason": "The licence has expired."})
    confirmation = flashes(admin_client.get(with_reason.headers["Location"]).text)
    run_jobs(app)
    again = admin_client.post(f"/admin/applications/{application.id}/approve")

    assert without_reason.status_code == 422
    assert "Give the applicant a reason." in field_errors(without_reason.text)
    assert confirmation == [("success", "The application is rejected.")]
    rejected = _application(app)
    assert (rejected.status, rejected.reason) == (ApplicationStatus.REJECTED, "The licence has expired.")
    [entry] = _audit(app, "merchant_application.reject")
    assert entry.reason == "The licence has expired."
    mail = _mail_to(app, "chen@example.test")[-1]
    assert mail.subject == "Your shop application / 您的入驻申请结果"
    assert "The licence has expired." in mail.body
    status_page = client.get(f"/apply/{application.reference}").text
    assert "Not approved" in status_page and "The licence has expired." in status_page
    assert flashes(admin_client.get(again.headers["Location"]).text) == [
        ("error", "This application is already decided.")
    ]
    assert _application(app).status is ApplicationStatus.REJECTED
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Merchant)) == 0


def test_the_applicant_answers_a_request_for_information_and_resubmits(app, client, admin_client, media_dir):
    application = _submitted(app, client)
    old_document = application.licence_document_key

    asked = admin_client.post(
        f"/admin/applications/{application.id}/needs-info",
        data={"info-reason": "Please send a sharper scan and your brand list."},
    )
    run_jobs(app)
    status_page = client.get(f"/apply/{application.reference}")

    assert asked.status_code == 302
    assert _application(app).status is ApplicationStatus.NEEDS_INFO
    [entry] = _audit(app, "merchant_application.needs_info")
    assert entry.reason == "Please send a sharper scan and your brand list."
    mail = _mail_to(app, "chen@example.test")[-1]
    assert STATUS_LINK.search(mail.body).group(0) == f"http://localhost/apply/{application.reference}"
    assert "Please send a sharper scan and your brand list." in status_page.text
    assert "Send the application again" in status_page.text

    invalid = client.post(
        f"/apply/{application.reference}",
        data=_form(licence=None, contact_phone="??"),
        content_type="multipart/form-data",
    )
    assert invalid.status_code == 422
    assert _application(app).status is ApplicationStatus.NEEDS_INFO

    new_scan = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    resubmitted = client.post(
        f"/apply/{application.reference}",
        data=_form(category_note="Tea; brands: Qingzhu", licence=(io.BytesIO(new_scan), "scan.png")),
        content_type="multipart/form-data",
    )

    assert resubmitted.status_code == 302
    again = _application(app)
    assert again.status is ApplicationStatus.SUBMITTED
    assert again.category_note == "Tea; brands: Qingzhu"
    assert again.licence_document_key != old_document and again.licence_document_key.endswith(".png")
    assert "Under review" in client.get(f"/apply/{application.reference}").text
    assert admin_client.post(f"/admin/applications/{application.id}/approve").status_code == 302
    assert _application(app).status is ApplicationStatus.APPROVED


def test_a_submitted_application_cannot_be_changed_by_the_applicant(app, client):
    application = _submitted(app, client)

    response = client.post(
        f"/apply/{application.reference}",
        data=_form(shop_name="Another Name", licence=None),
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    assert flashes(client.get(response.headers["Location"]).text) == [
        ("error", "This application cannot be changed now.")
    ]
    assert _application(app).shop_name == "Bamboo Tea"
