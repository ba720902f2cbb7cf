"""Stock at the warehouse desk: where every SKU sits (by SKU, bin, zone, shop), one SKU's bins and ledger, the
low-stock and slow-moving reports (each with a CSV export), and the printable receipt note of a delivery.

Read-only pages: parse the filters, call ``fulfillment.stock_queries``, render. Filters swap only the results
with htmx; "load more" appends the next keyset page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

from flask import Response, render_template, request
from flask_babel import gettext as _

from marketplace.catalog.import_format import csv_lines
from marketplace.core.pagination import Page, parse_cursor
from marketplace.core.permissions import requires
from marketplace.extensions import db, htmx
from marketplace.fulfillment import queries, stock_queries
from marketplace.fulfillment.labels import code128_svg
from marketplace.fulfillment.stock_queries import EXPORT_LIMIT, SkuStockRow, StockFilters
from marketplace.inventory.queries import actor_names
from wms_portal import bp

MAX_DAYS = 3650
EXPORT_PAGE = 500


def _int(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    return int(value) if value.isdigit() and len(value) < 12 else None


def _filters() -> StockFilters:
    """The filters of the query string; a warehouse that is not a platform one is a 404."""
    warehouse_id = _int("warehouse")
    if warehouse_id:
        queries.platform_warehouse(db.session, warehouse_id)
    return StockFilters(
        q=request.args.get("q", "")[:100],
        bin_code=request.args.get("bin", "")[:64],
        zone_id=_int("zone"),
        warehouse_id=warehouse_id,
        tenant_id=_int("shop"),
    )


def _choices() -> dict:
    """Options of the filter form: platform warehouses, their zones, the shops they hold goods of."""
    return {
        "warehouses": [s.warehouse for s in queries.platform_warehouses(db.session)],
        "zones": stock_queries.zones_of_platform(db.session),
        "shops": stock_queries.shops_in_platform(db.session),
    }


def _render(page_template: str, results_template: str, rows_template: str, **context) -> str:
    """The whole page; with htmx, only the results (a filter change) or only the next rows (load more)."""
    if htmx and request.args.get("before"):
        return render_template(rows_template, **context)
    if htmx:
        return render_template(results_template, **context)
    return render_template(page_template, **context, **_choices())


def _safe(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not isinstance(value, int) else text


def _all(fetch: Callable[[int | None, int], Page[SkuStockRow]]) -> Iterator[SkuStockRow]:
    """Every row of a report, page by page, up to EXPORT_LIMIT SKUs."""
    before, sent = None, 0
    while sent < EXPORT_LIMIT:
        page = fetch(before, EXPORT_PAGE)
        yield from page.items
        sent += len(page.items)
        if not page.has_more:
            return
        before = page.next_cursor


def _csv(rows: Iterator[list], name: str) -> Response:
    # Built at once (at most EXPORT_LIMIT SKUs), not streamed: a stream would keep the request's database
    # transaction open until the client has read the last byte.
    body = "".join(csv_lines([_safe(c) for c in row] for row in rows))
    response = Response(body, content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{date.today().isoformat()}.csv"'
    return response


def _totals_header() -> list[str]:
    return [_("On hand"), _("Reserved"), _("Available"), _("In bins"), _("Awaiting putaway")]


def _totals(item: SkuStockRow) -> list:
    return [item.on_hand, item.reserved, item.available, item.in_bins, item.awaiting_putaway]


def _sku_cells(item: SkuStockRow) -> list:
    return [item.sku_code, item.barcode or "", item.title, item.shop_name, item.warehouse_code]


def _sku_header() -> list[str]:
    return [_("SKU"), _("Barcode"), _("Product"), _("Shop"), _("Warehouse")]


# --- stock -------------------------------------------------------------------------------------------------


@bp.get("/stock")
@requires("wms.stock")
def stock_list():
    filters = _filters()
    page = stock_queries.stock_page(db.session, filters, before=parse_cursor(request.args.get("before")))
    return _render(
        "wms/stock/list.html", "wms/stock/_results.html", "wms/stock/_rows.html", page=page, filters=filters
    )


@bp.get("/stock/export.csv")
@requires("wms.stock")
def stock_export():
    filters = _filters()

    def rows() -> Iterator[list]:
        yield [*_sku_header(), _("Bin"), _("Zone"), _("In this bin"), *_totals_header()]
        for item in _all(
            lambda before, size: stock_queries.stock_page(db.session, filters, before=before, size=size)
        ):
            for b in item.bins or [None]:
                bin_cells = [b.bin_code, b.zone_code, b.quantity] if b else ["", "", ""]
                yield [*_sku_cells(item), *bin_cells, *_totals(item)]

    return _csv(rows(), "stock")


@bp.get("/stock/sku/<int:sku_id>")
@requires("wms.stock")
def stock_sku(sku_id: int):
    levels = stock_queries.sku_levels(db.session, sku_id)  # in no platform warehouse: 404
    chosen = _int("warehouse")
    level = next((lv for lv in levels if lv.warehouse_id == chosen), levels[0])
    ledger = stock_queries.ledger_page(
        db.session,
        sku_id=sku_id,
        warehouse_id=level.warehouse_id,
        before=parse_cursor(request.args.get("before")),
    )
    names = actor_names(db.session, {r.movement.actor_id for r in ledger.items if r.movement.actor_id})
    context = {"levels": levels, "level": level, "ledger": ledger, "names": names}
    if htmx and request.args.get("before"):
        return render_template("wms/stock/_ledger_rows.html", **context)
    return render_template("wms/stock/sku.html", **context)


# --- reports -----------------------------------------------------------------------------------------------


def _threshold() -> int | None:
    value = _int("threshold")
    return min(value, 1_000_000_000) if value is not None else None


@bp.get("/reports/low-stock")
@requires("wms.stock")
def stock_low():
    filters = _filters()
    page = stock_queries.low_stock_page(
        db.session, filters, threshold=_threshold(), before=parse_cursor(request.args.get("before"))
    )
    return _render(
        "wms/stock/low_stock.html",
        "wms/stock/_low_results.html",
        "wms/stock/_low_rows.html",
        page=page,
        filters=filters,
        threshold=_threshold(),
    )


@bp.get("/reports/low-stock.csv")
@requires("wms.stock")
def stock_low_export():
    filters, threshold = _filters(), _threshold()

    def fetch(before: int | None, size: int) -> Page[SkuStockRow]:
        return stock_queries.low_stock_page(
            db.session, filters, threshold=threshold, before=before, size=size
        )

    def rows() -> Iterator[list]:
        yield [*_sku_header(), *_totals_header(), _("Low-stock threshold")]
        for item in _all(fetch):
            yield [*_sku_cells(item), *_totals(item), item.low_stock_threshold]

    return _csv(rows(), "low-stock")


def _days() -> int:
    value = _int("days")
    return min(max(value, 1), MAX_DAYS) if value else stock_queries.SLOW_MOVING_DAYS


@bp.get("/reports/slow-moving")
@requires("wms.stock")
def stock_slow():
    filters, days = _filters(), _days()
    page = stock_queries.slow_moving_page(
        db.session, filters, days=days, before=parse_cursor(request.args.get("before"))
    )
    return _render(
        "wms/stock/slow_moving.html",
        "wms/stock/_slow_results.html",
        "wms/stock/_slow_rows.html",
        page=page,
        filters=filters,
        days=days,
    )


@bp.get("/reports/slow-moving.csv")
@requires("wms.stock")
def stock_slow_export():
    filters, days = _filters(), _days()

    def fetch(before: int | None, size: int) -> Page[SkuStockRow]:
        return stock_queries.slow_moving_page(db.session, filters, days=days, before=before, size=size)

    def rows() -> Iterator[list]:
        yield [
            *_sku_header(),
            *_totals_header(),
            _("Last shipped"),
            _("Days since shipped"),
            _("Days of cover"),
        ]
        for item in _all(fetch):
            shipped = item.last_shipped_at.date().isoformat() if item.last_shipped_at else ""
            since = item.days_since_shipped()
            cover = item.days_of_cover
            yield [
                *_sku_cells(item),
                *_totals(item),
                shipped,
                "" if since is None else since,
                "" if cover is None else cover,
            ]

    return _csv(rows(), "slow-moving")


# --- documents ---------------------------------------------------------------------------------------------


@bp.get("/receipts/<int:receipt_id>/note")
@requires("purchasing.view")
def receipt_note(receipt_id: int):
    receipt = stock_queries.receipt_note(db.session, receipt_id)
    return render_template(
        "wms/documents/receipt_note.html",
        receipt=receipt,
        warehouse=db.session.get(stock_queries.Warehouse, receipt.warehouse_id),
        labels=stock_queries.sku_labels(db.session, {line.sku_id for line in receipt.lines}),
        receiver=actor_names(db.session, {receipt.received_by_id} if receipt.received_by_id else set()).get(
            receipt.received_by_id
        ),
        barcode=code128_svg(receipt.number, module_height_mm=10.0),
    )
