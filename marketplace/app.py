"""The application factory: a short list of register_* steps, nothing done at import time."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from marketplace.config import load_config


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment; ``config`` overrides settings (tests use it)."""
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(load_config())
    if config:
        app.config.update(config)
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    register_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_logging(app: Flask) -> None:
    if not app.debug and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def register_extensions(app: Flask) -> None:
    import email_validator

    # Demo and test accounts live under the reserved .test domain (demo@demo.test); accept it.
    if "test" in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        email_validator.SPECIAL_USE_DOMAIN_NAMES.remove("test")
    import marketplace.core.audit  # noqa: F401 - installs the audit listener
    import marketplace.core.tenancy  # noqa: F401 - installs the tenant filter
    import marketplace.models  # noqa: F401 - complete metadata for migrations
    import marketplace.orders.receivers  # noqa: F401 - orders react to payment signals
    from marketplace.core import jobs
    from marketplace.extensions import api, babel, csrf, db, htmx, login_manager, migrate
    from marketplace.web.i18n import select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    jobs.init_app(app)
    api.init_app(app)

    @login_manager.user_loader
    def load_user(session_id: str):
        from marketplace.identity.services import load_session_user

        return load_session_user(db.session, session_id)


def register_blueprints(app: Flask) -> None:
    from admin_portal import bp as admin_bp
    from marketplace.web.gateway import bp as gateway_bp
    from marketplace.web.site import bp as site_bp
    from merchant_portal import bp as merchant_bp
    from merchant_portal.api import register_api
    from storefront import bp as storefront_bp
    from wms_portal import bp as wms_bp

    app.register_blueprint(site_bp)
    app.register_blueprint(
        gateway_bp
    )  # payment callbacks (CSRF-exempt, signed) and the simulated hosted page
    app.register_blueprint(admin_bp)
    app.register_blueprint(merchant_bp)
    app.register_blueprint(wms_bp)
    app.register_blueprint(storefront_bp)
    register_api(app)


def register_request_hooks(app: Flask) -> None:
    from marketplace.core.audit import set_actor
    from marketplace.core.jobs import dispatch_after_commit
    from marketplace.core.tenancy import _current_tenant

    @app.before_request
    def start_clean() -> None:
        # Context variables outlive a request in a threaded server; start every request clean.
        _current_tenant.set(None)
        set_actor(None)

    if not app.extensions["rq_async"] and not app.testing:
        from marketplace.core.periodic import run_sweeps_when_due

        # Embedded mode has no scheduler process: the web process runs the order sweeps itself, at most once
        # a minute, before a request (so a newcomer's demo still times out unpaid orders).
        app.before_request(run_sweeps_when_due)

    @app.teardown_request
    def end_clean(exc) -> None:
        # ...and leave nothing behind for whatever runs next in this thread (a job, a test).
        _current_tenant.set(None)
        set_actor(None)

    @app.after_request
    def after(response):
        if g.pop("outbox_pending", False) and response.status_code < 400:
            dispatch_after_commit()
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
        )
        if app.config["SESSION_COOKIE_SECURE"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.path.startswith("/api/"):
            headers.setdefault("Cache-Control", "no-store")
        return response


def register_error_handlers(app: Flask) -> None:
    from flask import render_template
    from werkzeug.exceptions import InternalServerError, NotFound

    from marketplace.core.api import problem_response, render_error_page, wants_json
    from marketplace.core.errors import DomainError

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        """An uncaught domain error: problem JSON on the API, the matching page elsewhere."""
        if wants_json():
            body = error.problem()
            return problem_response(
                error.status,
                body.pop("title"),
                body.pop("code"),
                **{k: v for k, v in body.items() if k not in {"type", "status"}},
            )
        if error.status == 404:
            return render_error_page(NotFound())
        return render_template(
            "errors/generic.html", error=_PageError(error.status, error.text)
        ), error.status

    @app.errorhandler(500)
    def server_error(error):
        if wants_json():
            return problem_response(500, "Internal server error", "internal_error")
        return render_error_page(InternalServerError())


class _PageError:
    def __init__(self, code: int, description: str) -> None:
        self.code = code
        self.description = description


def register_template_helpers(app: Flask) -> None:
    from marketplace.web.templating import install

    install(app)


def register_commands(app: Flask) -> None:
    from marketplace.cli import register

    register(app)
