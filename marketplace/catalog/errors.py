"""Catalogue errors with stable codes."""

from marketplace.core.errors import N_, DomainError


class InvalidTransition(DomainError):
    code = "product.invalid_transition"
    status = 409
    message = N_("A {status} product cannot be {action}.")


class IncompleteProduct(DomainError):
    code = "product.incomplete"
    status = 422
    message = N_("The product cannot be submitted yet: {missing}.")


class TooManySkus(DomainError):
    code = "product.too_many_skus"
    status = 422
    message = N_("{count} spec combinations is too many (at most {limit}).")


class DuplicateSkuCode(DomainError):
    code = "sku.duplicate_code"
    status = 409
    message = N_("SKU code {sku_code} is already used in this shop.")


class UnknownCategory(DomainError):
    code = "category.unknown"
    status = 422
    message = N_("Choose an active category.")


class CategoryInUse(DomainError):
    code = "category.in_use"
    status = 409
    message = N_("The category still has {count} product(s) or subcategories.")


class NothingPending(DomainError):
    code = "product.nothing_pending"
    status = 409
    message = N_("There is nothing waiting for review on this product.")
