"""Product approval: new products and edits of listed products, with a diff of what changed."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from admin_portal import bp
from marketplace.catalog import queries, revisions, services
from marketplace.core.errors import DomainError
from marketplace.core.pagination import parse_cursor
from marketplace.core.permissions import requires
from marketplace.extensions import db, htmx
from marketplace.merchants.queries import merchant_names


@bp.get("/catalog/approvals")
@requires("catalog.approve")
def approvals_list():
    kind = "edits" if request.args.get("kind") == "edits" else "new"
    page = queries.approval_queue(db.session, kind=kind, before=parse_cursor(request.args.get("before")))
    template = (
        "admin/approvals/_rows.html" if htmx and request.args.get("before") else "admin/approvals/list.html"
    )
    shops = merchant_names(db.session, {item.tenant_id for item in page.items})
    return render_template(template, page=page, kind=kind, shops=shops)


@bp.get("/catalog/products/<int:product_id>")
@requires("catalog.approve")
def approval_product(product_id: int):
    product = queries.get_product(db.session, product_id)
    shops = merchant_names(db.session, {product.tenant_id})
    return render_template("admin/approvals/product.html", product=product, shops=shops)


def _decide(action, done: str, redirect_to: str):
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text if not hasattr(exc, "fields") else " ".join(sum(exc.fields.values(), [])), "error")
        return redirect(request.referrer or url_for("admin.approvals_list"))
    db.session.commit()
    flash(done, "success")
    return redirect(redirect_to)


@bp.post("/catalog/products/<int:product_id>/approve")
@requires("catalog.approve")
def approval_product_approve(product_id: int):
    product = queries.get_product(db.session, product_id)
    return _decide(
        lambda: services.approve_product(db.session, product, actor_id=current_user.id),
        _("Approved: %(title)s is on sale.", title=product.title),
        url_for("admin.approvals_list"),
    )


@bp.post("/catalog/products/<int:product_id>/reject")
@requires("catalog.approve")
def approval_product_reject(product_id: int):
    product = queries.get_product(db.session, product_id)
    return _decide(
        lambda: services.reject_product(db.session, product, reason=request.form.get("reason", "")),
        _("Rejected; the merchant sees your reason."),
        url_for("admin.approvals_list"),
    )


@bp.get("/catalog/revisions/<int:revision_id>")
@requires("catalog.approve")
def approval_revision(revision_id: int):
    revision = queries.get_revision(db.session, revision_id)
    live = revisions.live_snapshot(revision.product)
    changes = revisions.diff(live, revision.data)
    names = queries.names_for(
        db.session,
        category_ids={live["category_id"], revision.data["category_id"]},
        brand_ids={b for b in (live["brand_id"], revision.data["brand_id"]) if b},
    )
    shops = merchant_names(db.session, {revision.tenant_id})
    return render_template(
        "admin/approvals/revision.html", revision=revision, changes=changes, names=names, shops=shops
    )


@bp.post("/catalog/revisions/<int:revision_id>/approve")
@requires("catalog.approve")
def approval_revision_approve(revision_id: int):
    revision = queries.get_revision(db.session, revision_id)
    return _decide(
        lambda: services.approve_revision(db.session, revision, actor_id=current_user.id),
        _("The edit is live."),
        url_for("admin.approvals_list", kind="edits"),
    )


@bp.post("/catalog/revisions/<int:revision_id>/reject")
@requires("catalog.approve")
def approval_revision_reject(revision_id: int):
    revision = queries.get_revision(db.session, revision_id)
    return _decide(
        lambda: services.reject_revision(
            db.session, revision, actor_id=current_user.id, reason=request.form.get("reason", "")
        ),
        _("Edit rejected; the approved version stays on sale."),
        url_for("admin.approvals_list", kind="edits"),
    )
