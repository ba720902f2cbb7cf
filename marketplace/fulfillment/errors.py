"""Warehouse errors with stable codes: setup, bins, cycle counts and adjustments."""

from marketplace.core.errors import N_, DomainError


class InvalidLocationCode(DomainError):
    """A zone, bin or warehouse code that is empty, too long or has characters a label scanner may misread."""

    code = "wms.invalid_code"
    status = 422
    message = N_("“{value}” is not a valid code: use 1 to {max_length} letters, digits and dashes.")


class DuplicateZone(DomainError):
    code = "wms.duplicate_zone"
    status = 409
    message = N_("Zone {code} already exists in this warehouse.")


class DuplicateWarehouse(DomainError):
    code = "wms.duplicate_warehouse"
    status = 409
    message = N_("A warehouse with code {code} already exists.")


class DuplicateBins(DomainError):
    """Some of the bins asked for exist already (``codes``: the first few); nothing was created."""

    code = "wms.duplicate_bins"
    status = 409
    message = N_("These bins already exist: {codes}. No bins were created.")


class DuplicateBarcode(DomainError):
    code = "wms.duplicate_barcode"
    status = 409
    message = N_("Barcode {barcode} is already on another bin.")


class InvalidBinRange(DomainError):
    code = "wms.invalid_bin_range"
    status = 422
    message = N_(
        "Bays and levels must run from 1 to 99, first not above last, and at most {limit} bins at once."
    )


class BinNotEmpty(DomainError):
    code = "wms.bin_not_empty"
    status = 409
    message = N_("Bin {code} still holds {quantity} units: move them before deactivating it.")


class NotAPlatformWarehouse(DomainError):
    code = "wms.not_platform_warehouse"
    status = 404
    message = N_("Not found.")


class DuplicateBoxType(DomainError):
    code = "wms.duplicate_box_type"
    status = 409
    message = N_("Box type {code} already exists in this warehouse.")


class BinsHoldFewer(DomainError):
    code = "wms.bins_hold_fewer"
    status = 409
    message = N_("The bins hold {held} units of {sku}, fewer than {quantity}: put the rest away first.")


# --- cycle counts and adjustments ----------------------------------------------------------------


class NothingToCount(DomainError):
    code = "wms.count_empty"
    status = 422
    message = N_("Choose a zone, at least one active bin of this warehouse, or a SKU to count.")


class CountNotOpen(DomainError):
    code = "wms.count_not_open"
    status = 409
    message = N_("Count {number} is no longer open for counting.")


class CountNotCounted(DomainError):
    code = "wms.count_not_counted"
    status = 409
    message = N_("Count {number} is not waiting for review.")


class BinNotInCount(DomainError):
    code = "wms.bin_not_in_count"
    status = 422
    message = N_("“{scanned}” is not a bin of count {number}.")


class UnknownItem(DomainError):
    code = "wms.unknown_item"
    status = 422
    message = N_("No item with the code “{scanned}”.")


class AmbiguousItem(DomainError):
    code = "wms.ambiguous_item"
    status = 422
    message = N_("“{scanned}” is the code of several shops' items: scan the item's barcode.")


class NotThisSku(DomainError):
    code = "wms.count_other_sku"
    status = 422
    message = N_("This count is for {expected} only, not “{scanned}”.")


class InvalidCountQuantity(DomainError):
    code = "wms.count_quantity"
    status = 422
    message = N_("The quantity is a whole number from 1 to {maximum}.")


class MissingScanToken(DomainError):
    code = "wms.scan_token"
    status = 422
    message = N_("This scan form has expired: reload the page and scan again.")


class AlreadyDecided(DomainError):
    code = "wms.variance_decided"
    status = 409
    message = N_("This variance has already been decided.")


class NoVariance(DomainError):
    code = "wms.no_variance"
    status = 422
    message = N_("This line has no variance to decide.")


class BinWouldGoNegative(DomainError):
    code = "wms.bin_negative"
    status = 409
    message = N_("Bin {bin} holds only {quantity} units of {sku}: it cannot lose {loss}.")


class InvalidDelta(DomainError):
    code = "wms.adjust_delta"
    status = 422
    message = N_("The adjustment is a whole number of units other than 0, like 3 or -2.")


# --- helpers -----------------------------------------------------------------------------------------------
