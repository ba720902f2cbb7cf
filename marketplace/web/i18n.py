"""Locale choice: the language switch (stored in the session), then the browser's preference."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session


def select_locale() -> str:
    if not has_request_context():  # a job or a CLI command: messages in the platform's default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if request.path.startswith("/api/") and not request.accept_languages:
        return "en"  # a merchant's system that states no language gets the API's messages in English
    best = request.accept_languages.best_match(["zh", "zh_Hans", "zh-CN", "en"]) if request else None
    if best and best.startswith("zh"):
        return "zh_Hans"
    if best == "en":
        return "en"
    return current_app.config["BABEL_DEFAULT_LOCALE"]
