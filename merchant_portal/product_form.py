"""The product editor's form: parsed by hand because its SKU table grows with the specs.

Field names: ``title``, ``category_id``, ``brand_id``, ``tags``, ``description_html``, ``video_url``,
``weight_g``; ``spec-<n>-name`` / ``spec-<n>-values`` (comma separated); one row per SKU with ``sku-<i>-spec``
(the combination as JSON), ``-code``, ``-barcode``, ``-price``, ``-market_price`` (yuan), ``-weight_g``,
``-stock``; ``image`` (kept images as ``key:width:height`` in display order) and the ``new_images`` uploads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import InvalidOperation
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from marketplace.catalog.models import Product
from marketplace.catalog.services import ProductInput, SkuInput
from marketplace.catalog.specs import combinations, normalise_specs, spec_key
from marketplace.core.db import Money

MAX_SPECS = 3


@dataclass
class SkuRow:
    spec_values: dict[str, str]
    code: str = ""
    barcode: str = ""
    price: str = ""
    market_price: str = ""
    weight_g: str = ""
    stock: str = ""

    @property
    def spec_json(self) -> str:
        return json.dumps(self.spec_values, ensure_ascii=False)

    @property
    def label(self) -> str:
        return " / ".join(self.spec_values.values()) or _("(single SKU)")


@dataclass
class ProductForm:
    """What the editor shows: the raw values typed (so nothing is lost on an error) and the messages."""

    values: dict[str, Any] = field(default_factory=dict)
    specs: list[dict[str, Any]] = field(default_factory=list)
    rows: list[SkuRow] = field(default_factory=list)
    images: list[tuple[str, int, int]] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def error(self, name: str) -> list[str]:
        return self.errors.get(name, [])


def _int(text: str, name: str, errors: dict[str, list[str]], *, default: int = 0) -> int:
    text = (text or "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        errors.setdefault(name, []).append(_("Enter a whole number."))
        return default


def _money(text: str, name: str, errors: dict[str, list[str]]) -> int | None:
    text = (text or "").strip().replace(",", "")
    if not text:
        return None
    try:
        return Money.parse(text).amount
    except (InvalidOperation, ValueError):
        errors.setdefault(name, []).append(_("Enter an amount like 12.50."))
        return None


def specs_from(form: MultiDict) -> list[dict[str, Any]]:
    specs = []
    for n in range(MAX_SPECS):
        name = form.get(f"spec-{n}-name", "").strip()
        values = [v.strip() for v in form.get(f"spec-{n}-values", "").replace("，", ",").split(",")]
        specs.append({"name": name, "values": [v for v in values if v]})
    return normalise_specs(specs)


def rows_from(form: MultiDict) -> list[SkuRow]:
    rows = []
    i = 0
    while f"sku-{i}-spec" in form:
        try:
            values = json.loads(form.get(f"sku-{i}-spec") or "{}")
        except json.JSONDecodeError:
            values = {}
        rows.append(
            SkuRow(
                spec_values={str(k): str(v) for k, v in values.items()},
                **{
                    name: form.get(f"sku-{i}-{name}", "")
                    for name in ("code", "barcode", "price", "market_price", "weight_g", "stock")
                },
            )
        )
        i += 1
    return rows


def matrix(specs: list[dict[str, Any]], previous: list[SkuRow]) -> list[SkuRow]:
    """One row per spec combination, keeping what was typed for combinations that still exist."""
    typed = {spec_key(row.spec_values): row for row in previous}
    return [typed.get(spec_key(combo)) or SkuRow(spec_values=combo) for combo in combinations(specs)]


def images_from(form: MultiDict) -> list[tuple[str, int, int]]:
    images = []
    for item in form.getlist("image"):
        key, _sep, rest = item.partition(":")
        width, _sep, height = rest.partition(":")
        if key.isalnum() and width.isdigit() and height.isdigit():
            images.append((key, int(width), int(height)))
    return images


def parse(form: MultiDict) -> tuple[ProductForm, ProductInput | None]:
    """The typed form and, if every field parses, the service input (the service validates the rules)."""
    errors: dict[str, list[str]] = {}
    specs = specs_from(form)
    rows = matrix(specs, rows_from(form))
    view = ProductForm(values=form.to_dict(), specs=specs, rows=rows, images=images_from(form), errors=errors)
    category_id = _int(form.get("category_id", ""), "category_id", errors)
    brand_text = form.get("brand_id", "").strip()
    brand_id = _int(brand_text, "brand_id", errors) if brand_text else None
    skus = []
    for index, row in enumerate(rows):
        name = f"skus-{index}"
        price = _money(row.price, name, errors)
        skus.append(
            SkuInput(
                spec_values=row.spec_values,
                code=row.code,
                barcode=row.barcode or None,
                price=price if price is not None else 0,
                market_price=_money(row.market_price, name, errors),
                weight_g=_int(row.weight_g, name, errors),
                stock=_int(row.stock, name, errors) if row.stock.strip() else None,
            )
        )
    data = ProductInput(
        title=form.get("title", ""),
        category_id=category_id,
        brand_id=brand_id,
        description_html=form.get("description_html", ""),
        video_url=form.get("video_url", ""),
        weight_g=_int(form.get("weight_g", ""), "weight_g", errors),
        specs=specs,
        attributes=_attributes(form.get("attributes", "")),
        tag_names=[t.strip() for t in form.get("tags", "").replace("，", ",").split(",") if t.strip()],
        images=view.images,
        skus=skus,
    )
    return view, (None if errors else data)


def _attributes(text: str) -> dict[str, str]:
    """``材质: 棉`` one per line."""
    result = {}
    for line in text.splitlines():
        name, sep, value = line.replace("：", ":").partition(":")
        if sep and name.strip() and value.strip():
            result[name.strip()] = value.strip()
    return result


def from_product(product: Product, stock: dict[int, int], tag_names: list[str]) -> ProductForm:
    """The editor filled from a saved product (its live version)."""
    active = [s for s in product.skus if s.is_active]
    rows = [
        SkuRow(
            spec_values=s.spec_values,
            code=s.code,
            barcode=s.barcode or "",
            price=_yuan(s.price),
            market_price=_yuan(s.market_price),
            weight_g=str(s.weight_g),
            stock=str(stock.get(s.id, 0)),
        )
        for s in active
    ]
    values = {
        "title": product.title,
        "category_id": str(product.category_id),
        "brand_id": str(product.brand_id or ""),
        "description_html": product.description_html,
        "video_url": product.video_url,
        "weight_g": str(product.weight_g),
        "tags": ", ".join(tag_names),
        "attributes": "\n".join(f"{k}: {v}" for k, v in product.attributes.items()),
    }
    for n, spec in enumerate(product.specs):
        values[f"spec-{n}-name"] = spec["name"]
        values[f"spec-{n}-values"] = ", ".join(spec["values"])
    images = [(i.key, i.width, i.height) for i in product.images]
    return ProductForm(values=values, specs=product.specs, rows=rows, images=images)


def with_revision(form: ProductForm, data: dict[str, Any]) -> ProductForm:
    """Show the edit waiting for approval instead of the live values, so a later save carries it forward."""
    form.values.update(
        {
            "title": data["title"],
            "category_id": str(data["category_id"]),
            "brand_id": str(data["brand_id"] or ""),
        }
    )
    for n in range(MAX_SPECS):
        spec = data["specs"][n] if n < len(data["specs"]) else {"name": "", "values": []}
        form.values[f"spec-{n}-name"] = spec["name"]
        form.values[f"spec-{n}-values"] = ", ".join(spec["values"])
    form.specs = data["specs"]
    live = {spec_key(row.spec_values): row for row in form.rows}
    form.rows = []
    for item in data["skus"]:
        row = live.get(spec_key(item["spec_values"])) or SkuRow(spec_values=item["spec_values"])
        row.code, row.price = item["code"], _yuan(item["price"])
        form.rows.append(row)
    form.images = [tuple(image) for image in data["images"]]
    return form


def _yuan(amount: int | None) -> str:
    from marketplace.web.templating import yuan

    return yuan(amount)
