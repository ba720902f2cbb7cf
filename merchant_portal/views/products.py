"""The shop's products: list, the editor with its SKU table, submit for approval, list and unlist, order."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.catalog import queries, services
from marketplace.catalog.models import Product
from marketplace.core.errors import DomainError, ValidationFailed
from marketplace.core.pagination import parse_cursor
from marketplace.core.permissions import requires
from marketplace.core.storage import save_image
from marketplace.extensions import db, htmx
from marketplace.inventory.queries import on_hand_by_sku
from merchant_portal import bp
from merchant_portal import product_form as pf


@bp.get("/products")
@requires("catalog.view")
def products_list():
    page = queries.shop_products(
        db.session,
        status=request.args.get("status", ""),
        listed=request.args.get("listed", ""),
        search=request.args.get("q", ""),
        before=parse_cursor(request.args.get("before")),
    )
    template = (
        "merchant/products/_rows.html"
        if htmx and request.args.get("before")
        else "merchant/products/list.html"
    )
    return render_template(template, page=page)


def _editor(form: pf.ProductForm, product: Product | None, status: int = 200):
    return render_template(
        "merchant/products/edit.html",
        form=form,
        product=product,
        categories=queries.category_tree(db.session, active_only=True),
        brands=queries.brands(db.session),
        revision=queries.pending_revision_for(db.session, product.id) if product else None,
        rejected=queries.latest_rejected_revision(db.session, product.id) if product else None,
        max_specs=pf.MAX_SPECS,
    ), status


def _with_uploads(form: pf.ProductForm, data) -> bool:
    """Store the uploaded images; they join the form so a failed save never loses them."""
    for upload in request.files.getlist("new_images"):
        if not upload or not upload.filename:
            continue
        try:
            stored = save_image(upload.stream)
        except DomainError as exc:
            form.errors.setdefault("images", []).append(f"{upload.filename}: {exc.text}")
            continue
        form.images.append((stored.key, stored.width, stored.height))
    if data is not None:
        data.images = form.images
    return not form.errors


def _save(form: pf.ProductForm, data, save) -> tuple[bool, object]:
    """Store uploads, run the service and commit; on any refusal roll back and put the messages on the form."""
    if not _with_uploads(form, data) or data is None:
        return False, None
    try:
        result = save(data)
    except ValidationFailed as exc:
        db.session.rollback()
        form.errors.update(exc.fields)
    except DomainError as exc:
        db.session.rollback()
        form.errors.setdefault("form", []).append(exc.text)
    else:
        db.session.commit()
        return True, result
    return False, None


def _category_specs(category_id: int | None) -> list[dict]:
    if not category_id:
        return []
    category = queries.get_category(db.session, category_id)
    return [t for t in queries.spec_templates(db.session, category) if t["is_spec"]]


@bp.route("/products/new", methods=["GET", "POST"])
@requires("catalog.edit")
def product_create():
    if request.method == "GET":
        category_id = request.args.get("category_id", type=int)
        specs = _category_specs(category_id)
        values = {"category_id": str(category_id or "")}
        for n, spec in enumerate(specs[: pf.MAX_SPECS]):
            values[f"spec-{n}-name"] = spec["name"]
            values[f"spec-{n}-values"] = ", ".join(spec["values"])
        form = pf.ProductForm(values=values, specs=specs, rows=pf.matrix(specs, []))
        return _editor(form, None)
    form, data = pf.parse(request.form)
    saved, product = _save(
        form,
        data,
        lambda d: services.create_product(
            db.session, tenant_id=g.tenant_id, data=d, actor_id=current_user.id
        ),
    )
    if saved:
        flash(_("Product saved as a draft. Submit it for approval when it is ready."), "success")
        return redirect(url_for("merchant.product_edit", product_id=product.id))
    return _editor(form, None, 422)


@bp.get("/products/spec-fields")
@requires("catalog.edit")
def product_spec_fields():
    """htmx: the spec fields filled from the chosen category's specs; the rest of the form is untouched."""
    specs = _category_specs(request.args.get("category_id", type=int))
    values = {}
    for n, spec in enumerate(specs[: pf.MAX_SPECS]):
        values[f"spec-{n}-name"] = spec["name"]
        values[f"spec-{n}-values"] = ", ".join(spec["values"])
    return render_template(
        "merchant/products/_spec_fields.html", form=pf.ProductForm(values=values), max_specs=pf.MAX_SPECS
    )


@bp.post("/products/sku-table")
@requires("catalog.edit")
def product_sku_table():
    """htmx: rebuild the SKU table from the specs typed so far, keeping typed prices and codes."""
    form, _data = pf.parse(request.form)
    form.errors.clear()
    return render_template("merchant/products/_sku_table.html", form=form)


@bp.route("/products/<int:product_id>", methods=["GET", "POST"])
@requires("catalog.view")
def product_edit(product_id: int):
    product = queries.get_product(db.session, product_id)  # another shop's id: 404
    if request.method == "GET":
        stock = on_hand_by_sku(db.session, [s.id for s in product.skus])
        form = pf.from_product(product, stock, queries.tag_names(db.session, product.id))
        revision = queries.pending_revision_for(db.session, product.id)
        if revision is not None:
            form = pf.with_revision(form, revision.data)
        return _editor(form, product)
    if not current_user.can("catalog.edit"):
        return _editor(pf.ProductForm(errors={"form": [_("You may not edit products.")]}), product, 403)
    form, data = pf.parse(request.form)
    saved, revision = _save(
        form, data, lambda d: services.update_product(db.session, product, data=d, actor_id=current_user.id)
    )
    if saved:
        if revision is not None:
            flash(
                _(
                    "Saved. The change of title, images, category or prices waits for approval; the approved version stays on sale."
                ),
                "info",
            )
        else:
            flash(_("Saved."), "success")
        return redirect(url_for("merchant.product_edit", product_id=product.id))
    return _editor(form, product, 422)


def _transition(product_id: int, action, done: str):
    product = queries.get_product(db.session, product_id)
    try:
        action(db.session, product)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
    else:
        db.session.commit()
        flash(done, "success")
    if htmx and request.headers.get("HX-Target", "").startswith("product-"):
        return render_template("merchant/products/_row.html", p=product)
    return redirect(request.referrer or url_for("merchant.product_edit", product_id=product.id))


@bp.post("/products/<int:product_id>/submit")
@requires("catalog.edit")
def product_submit(product_id: int):
    return _transition(product_id, services.submit_product, _("Submitted for approval."))


@bp.post("/products/<int:product_id>/list")
@requires("catalog.list")
def product_list(product_id: int):
    return _transition(product_id, services.list_product, _("The product is on sale."))


@bp.post("/products/<int:product_id>/unlist")
@requires("catalog.list")
def product_unlist(product_id: int):
    return _transition(product_id, services.unlist_product, _("The product is off sale."))


@bp.post("/products/order")
@requires("catalog.list")
def products_order():
    """Save the shop order: the ids in the order the merchant arranged them."""
    ids = [int(v) for v in request.form.getlist("product_id") if v.isdigit()]
    services.reorder_products(db.session, tenant_id=g.tenant_id, ordered_ids=ids)
    db.session.commit()
    flash(_("Shop order saved."), "success")
    return redirect(url_for("merchant.products_list", listed="yes"))
