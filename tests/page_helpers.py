"""Reading rendered pages in tests: flashed messages, field errors, hidden CSRF tokens."""

from __future__ import annotations

import html
import re

from flask import Flask
from flask.testing import FlaskClient

_FLASH = re.compile(r'<p class="flash flash-(\w+)"[^>]*>(.*?)</p>', re.S)
_FIELD_ERROR = re.compile(r'<small class="field-error">(.*?)</small>', re.S)
_CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def english_client(app: Flask, remote_addr: str = "127.0.0.1") -> FlaskClient:
    """A browser that asks for English pages (so tests can quote messages) from ``remote_addr``."""
    client = app.test_client()
    client.environ_base.update(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR=remote_addr)
    return client


def flashes(page: str) -> list[tuple[str, str]]:
    """The flashed messages on a page, as (category, text)."""
    return [(category, html.unescape(text.strip())) for category, text in _FLASH.findall(page)]


def field_errors(page: str) -> list[str]:
    return [html.unescape(text.strip()) for text in _FIELD_ERROR.findall(page)]


def csrf_token(page: str) -> str:
    """The value of the first hidden ``csrf_token`` input of a form page."""
    match = _CSRF_INPUT.search(page)
    assert match is not None, "the page has no csrf_token input"
    return match.group(1)
