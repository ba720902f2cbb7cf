"""Warehouse-setup errors with stable codes."""

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
