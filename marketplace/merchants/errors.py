"""Merchant errors with stable codes."""

from marketplace.core.errors import N_, DomainError


class ApiKeyInvalid(DomainError):
    code = "api_key.invalid"
    status = 401
    message = N_("The API key is missing, unknown or revoked.")


class ScopeNotGrantable(DomainError):
    code = "api_key.scope"
    status = 422
    message = N_("An API key cannot be granted {scope}.")


class MerchantNotActive(DomainError):
    code = "merchant.not_active"
    status = 403
    message = N_("The shop is {status}.")
