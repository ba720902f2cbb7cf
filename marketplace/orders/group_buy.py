"""Group-buy imports: a CSV of what a group-buy platform sold (and collected the money for), turned into orders.

One row per SKU of a group. Columns (English or Chinese headers, any order): group_ref, recipient, phone,
province, city, district, address, sku_code, quantity, unit_price (yuan). The rows of one group deliver to one
address; they become one order per shop, each paid offline (the money is recorded in the ledger as received
through the group-buy platform).

The whole file is checked first and every bad row named by its line number in the file (the header is line 1);
nothing is placed unless every row is good. Placing is ``checkout.services.place_orders`` per group, in the one
transaction of the request, so a failure there (stock sold in the meantime) writes nothing either.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from marketplace.catalog.import_format import decode_csv
from marketplace.catalog.import_validation import parse_whole, parse_yuan
from marketplace.core.errors import N_, DomainError
from marketplace.orders.drafts import DeliveryAddress, LineDraft, OrderDraft
from marketplace.orders.entry import (
    FoundSku,
    Problem,
    Wanted,
    check_delivery,
    check_quantity,
    line_draft,
    pick_sku,
    shortages,
    skus_by_code,
)

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_GROUP_REF = 40
MAX_PRICE = 100_000_000_00  # fen

# column -> accepted headers (the English name first)
COLUMNS: dict[str, tuple[str, ...]] = {
    "group_ref": ("group_ref", "团号", "团购编号"),
    "recipient": ("recipient", "收货人"),
    "phone": ("phone", "电话", "手机"),
    "province": ("province", "省", "省份"),
    "city": ("city", "市", "城市"),
    "district": ("district", "区", "区县"),
    "address": ("address", "地址", "详细地址"),
    "sku_code": ("sku_code", "SKU编码", "sku编码"),
    "quantity": ("quantity", "数量"),
    "unit_price": ("unit_price", "单价"),
}
EXAMPLE = (
    "group_ref,recipient,phone,province,city,district,address,sku_code,quantity,unit_price\n"
    "G-1001,李雷,13800138000,上海,上海市,徐汇区,漕溪北路1号,TEA-001,2,19.90\n"
    "G-1001,李雷,13800138000,上海,上海市,徐汇区,漕溪北路1号,CUP-002,1,35.00\n"
)
REQUIRED = (
    "group_ref",
    "recipient",
    "phone",
    "province",
    "city",
    "address",
    "sku_code",
    "quantity",
    "unit_price",
)


@dataclass(frozen=True)
class RowError:
    row: int  # line of the file, the header being line 1
    message: str  # untranslated, with {placeholders}
    facts: dict = field(default_factory=dict)


class GroupBuyRefused(DomainError):
    """The file was not imported. ``errors`` names every bad row; ``text`` is one sentence for a flash."""

    code = "group_buy.refused"
    status = 422
    message = N_("Nothing was imported: {count} problems. {first}")

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(count=len(errors), first=_row_sentence(first, translate=False))

    @property
    def text(self) -> str:
        try:
            from flask_babel import gettext

            return gettext(self.message).format(count=len(self.errors), first=_row_sentence(self.errors[0]))
        except (RuntimeError, KeyError):
            return str(self)


def _row_sentence(error: RowError, *, translate: bool = True) -> str:
    if translate:
        from flask_babel import gettext

        return gettext("Row {row}: {problem}").format(
            row=error.row, problem=gettext(error.message).format(**error.facts)
        )
    return f"Row {error.row}: {error.message.format(**error.facts)}"


def row_messages(refused: GroupBuyRefused) -> list[str]:
    """Every problem as "Row n: ...", in the reader's language."""
    return [_row_sentence(error) for error in refused.errors]


@dataclass
class GroupPlan:
    """One group of the file: its orders (one draft per shop) and the key that makes a re-upload place none."""

    group_ref: str
    drafts: list[OrderDraft]
    idempotency_key: str  # at most 64 characters (checkouts.idempotency_key)
    reference: str  # the receipt's reference in the ledger: short, unique per file and group
    rows: list[int]

    @property
    def total_amount(self) -> int:
        return sum(draft.total_amount for draft in self.drafts)


@dataclass
class _Row:
    number: int
    group_ref: str
    address: DeliveryAddress
    found: FoundSku
    quantity: int
    unit_price: int


def _header_map(header: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = cell.strip().lstrip("\ufeff").strip().lower()
        for key, aliases in COLUMNS.items():
            if name in (alias.lower() for alias in aliases) and key not in positions:
                positions[key] = index
    return positions


def read_rows(data: bytes) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    """The header map and the non-empty rows with their line numbers; refused whole for a file that is not a
    readable CSV with the required columns."""
    if len(data) > MAX_BYTES:
        raise GroupBuyRefused(
            [RowError(1, N_("The file is larger than {mb} MB."), {"mb": MAX_BYTES // (1024 * 1024)})]
        )
    try:
        text = decode_csv(data)
    except DomainError:
        raise GroupBuyRefused([RowError(1, N_("The file is not CSV text in UTF-8 or GBK."))]) from None
    first_line = text[: text.find("\n")] if "\n" in text else text
    delimiter = max((",", "\t", ";"), key=first_line.count)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise GroupBuyRefused(
            [RowError(1, N_("The CSV text is malformed ({detail})."), {"detail": str(exc)})]
        ) from exc
    if not records:
        raise GroupBuyRefused([RowError(1, N_("The file is empty."))])
    columns = _header_map(records[0])
    missing = [key for key in REQUIRED if key not in columns]
    if missing:
        raise GroupBuyRefused(
            [RowError(1, N_("Columns missing: {columns}."), {"columns": ", ".join(missing)})]
        )
    rows = [
        (number, record)
        for number, record in enumerate(records[1:], start=2)
        if any(c.strip() for c in record)
    ]
    if not rows:
        raise GroupBuyRefused([RowError(1, N_("The file has no rows below the header."))])
    if len(rows) > MAX_ROWS:
        raise GroupBuyRefused([RowError(1, N_("At most {maximum} rows per file."), {"maximum": MAX_ROWS})])
    return columns, rows


def plan_import(session: Session, data: bytes) -> list[GroupPlan]:
    """Check the file and turn it into groups of order drafts; GroupBuyRefused names every bad row."""
    columns, records = read_rows(data)

    def cell(record: list[str], key: str) -> str:
        index = columns.get(key)
        return record[index].strip() if index is not None and index < len(record) else ""

    found_by_code = skus_by_code(session, {cell(r, "sku_code") for _n, r in records if cell(r, "sku_code")})
    errors: list[RowError] = []
    rows: list[_Row] = []
    first_address: dict[str, tuple[int, DeliveryAddress]] = {}
    for number, record in records:
        problems: list[Problem] = []
        group_ref = cell(record, "group_ref")
        if not group_ref:
            problems.append((N_("Enter the group reference."), {}))
        elif len(group_ref) > MAX_GROUP_REF:
            problems.append(
                (N_("The group reference has at most {maximum} characters."), {"maximum": MAX_GROUP_REF})
            )
        address, address_problems = check_delivery(
            recipient=cell(record, "recipient"),
            phone=cell(record, "phone"),
            province=cell(record, "province"),
            city=cell(record, "city"),
            district=cell(record, "district"),
            detail=cell(record, "address"),
        )
        problems += address_problems.values()
        quantity = _number(cell(record, "quantity"), parse_whole)
        if quantity is None:
            problems.append(
                (N_("{value} is not a quantity."), {"value": cell(record, "quantity")[:20] or "—"})
            )
        elif quantity_problem := check_quantity(quantity):
            problems.append(quantity_problem)
        price = _number(cell(record, "unit_price"), parse_yuan)
        if price is None or not 0 < price <= MAX_PRICE:
            problems.append(
                (
                    N_("{value} is not a price in yuan such as 12.50."),
                    {"value": cell(record, "unit_price")[:20] or "—"},
                )
            )
        code = cell(record, "sku_code")
        found = None
        if not code:
            problems.append((N_("Enter the SKU code."), {}))
        else:
            found, sku_problem = pick_sku(found_by_code.get(code, []), Wanted(code, quantity or 1))
            if sku_problem:
                problems.append(sku_problem)
        if address is not None and group_ref:
            earlier = first_address.setdefault(group_ref, (number, address))
            if earlier[1] != address:
                problems.append(
                    (N_("The rows of group {group} deliver to one address; row {first} gives another."),
                     {"group": group_ref, "first": earlier[0]})
                )  # fmt: skip
        if problems:
            errors += [RowError(number, message, facts) for message, facts in problems]
        else:
            rows.append(_Row(number, group_ref, address, found, quantity, price))
    if not errors:
        errors += _stock_errors(session, rows)
    if errors:
        raise GroupBuyRefused(errors)
    return _plans(rows, hashlib.sha256(data).hexdigest()[:20])


def _number(text: str, parse) -> int | None:
    if not text:
        return None
    try:
        return parse(text)
    except ValueError:
        return None


def _stock_errors(session: Session, rows: list[_Row]) -> list[RowError]:
    wanted: dict[int, int] = {}
    for row in rows:
        wanted[row.found.sku.id] = wanted.get(row.found.sku.id, 0) + row.quantity
    short = shortages(session, wanted)
    return [
        RowError(
            row.number,
            N_("Only {available} left of {sku}; the file wants {wanted}."),
            {
                "available": short[row.found.sku.id],
                "sku": row.found.sku.code,
                "wanted": wanted[row.found.sku.id],
            },
        )
        for row in rows
        if row.found.sku.id in short
    ]


def _plans(rows: list[_Row], file_key: str) -> list[GroupPlan]:
    groups: dict[str, list[_Row]] = {}
    for row in rows:
        groups.setdefault(row.group_ref, []).append(row)
    plans = []
    for group_ref, group_rows in groups.items():
        per_shop: dict[int, list[LineDraft]] = {}
        for row in group_rows:
            per_shop.setdefault(row.found.merchant.id, []).append(
                line_draft(row.found, row.quantity, row.unit_price)
            )
        drafts = [
            OrderDraft(
                tenant_id=tenant_id,
                lines=lines,
                address=group_rows[0].address,
                shipping_method="group buy",
                note=f"group buy {group_ref}",
            )
            for tenant_id, lines in per_shop.items()
        ]
        plans.append(
            GroupPlan(
                group_ref,
                drafts,
                f"gb:{file_key}:{group_ref}",
                f"gb:{file_key[:12]}:{group_ref}",
                [row.number for row in group_rows],
            )
        )
    return plans
