"""Builders for catalogue tests: a category with specs, a PNG upload, the product editor's form data."""

from __future__ import annotations

import io
import json

from flask import Flask
from PIL import Image

from marketplace.catalog.services import save_category, set_category_attributes
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db


def make_category(app: Flask, name: str = "T恤 T-shirts", specs=None):
    with app.app_context(), acting_as(SYSTEM):
        category = save_category(db.session, name=name, commission_rate_bp=600)
        set_category_attributes(
            db.session,
            category,
            specs
            if specs is not None
            else [{"name": "颜色", "values": ["红", "蓝"]}, {"name": "尺码", "values": ["M", "L"]}],
        )
        db.session.commit()
        return category


def png(colour: str = "red") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def product_form(
    category_id: int, *, title: str = "纯棉T恤 Cotton tee", price: str = "59.00", **extra
) -> dict:
    """Editor fields for a colour × size product: four SKUs, codes TEE-<colour>-<size>."""
    data = {
        "title": title,
        "category_id": str(category_id),
        "spec-0-name": "颜色",
        "spec-0-values": "红, 蓝",
        "spec-1-name": "尺码",
        "spec-1-values": "M, L",
        "description_html": "<p>Soft <script>alert(1)</script><b>cotton</b></p>",
        "weight_g": "200",
        "tags": "夏季, cotton",
    }
    combos = [("红", "M"), ("红", "L"), ("蓝", "M"), ("蓝", "L")]
    for i, (colour, size) in enumerate(combos):
        data[f"sku-{i}-spec"] = json.dumps({"颜色": colour, "尺码": size}, ensure_ascii=False)
        data[f"sku-{i}-code"] = f"TEE-{colour}-{size}"
        data[f"sku-{i}-price"] = price
        data[f"sku-{i}-stock"] = "10"
    data.update(extra)
    return data
