"""The admin portal's IP allowlist. A change that would shut out the editing admin is refused."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from admin_portal import bp
from admin_portal.forms import IpRuleForm
from marketplace.core.errors import DomainError, NotFound
from marketplace.core.permissions import requires
from marketplace.extensions import db
from marketplace.identity import queries, services
from marketplace.web.portal import client_ip


@bp.route("/security/ip-allowlist", methods=["GET", "POST"])
@requires("security.manage")
def ip_rules_list():
    form = IpRuleForm()
    if form.validate_on_submit():
        try:
            services.add_ip_rule(
                db.session,
                cidr=form.cidr.data,
                note=form.note.data or "",
                current_ip=client_ip(),
                created_by_id=current_user.id,
            )
        except DomainError as exc:
            db.session.rollback()
            form.cidr.errors.append(exc.text)
        else:
            db.session.commit()
            flash(_("Range added."), "success")
            return redirect(url_for("admin.ip_rules_list"))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "admin/ip_rules/list.html", form=form, rules=queries.ip_rules(db.session), current_ip=client_ip()
    ), status


@bp.post("/security/ip-allowlist/<int:rule_id>/delete")
@requires("security.manage")
def ip_rule_delete(rule_id: int):
    rule = next((r for r in queries.ip_rules(db.session) if r.id == rule_id), None)
    if rule is None:
        raise NotFound()
    try:
        services.delete_ip_rule(db.session, rule, current_ip=client_ip())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.text, "error")
    else:
        db.session.commit()
        flash(_("Range removed."), "success")
    return redirect(url_for("admin.ip_rules_list"))
