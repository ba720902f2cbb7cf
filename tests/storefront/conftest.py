"""Storefront tests store their product images in a temporary media folder, never in instance/."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def media_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MEDIA_DIR", str(tmp_path / "media"))
    return tmp_path / "media"
