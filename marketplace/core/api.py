"""flask-smorest ``Api`` whose errors are problem JSON on the API and HTML pages everywhere else."""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def problem_response(status: int, title: str, code: str, **extra):
    body = {"type": f"urn:marketplace:error:{code}", "title": title, "status": status, "code": code, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    return response


class ProblemApi(Api):
    """smorest registers its HTTPException handler app-wide; keep HTML portals on HTML error pages."""

    def handle_http_exception(self, error: HTTPException):
        if not wants_json():
            return render_error_page(error)
        data = getattr(error, "data", None) or {}
        extra = {}
        if "messages" in data:  # webargs validation errors, keyed by location
            extra["errors"] = data["messages"]
        code = {401: "unauthenticated", 403: "permission_denied", 404: "not_found", 422: "validation_failed"}
        response = problem_response(
            error.code or 500,
            data.get("message") or error.description or error.name,
            code.get(error.code or 500, (error.name or "error").lower().replace(" ", "_")),
            **extra,
        )
        for name, value in data.get("headers", {}).items():
            response.headers[name] = value
        if error.code == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return response


def render_error_page(error: HTTPException):
    code = error.code or 500
    template = f"errors/{code}.html" if code in {403, 404, 500} else "errors/generic.html"
    return render_template(template, error=error), code
