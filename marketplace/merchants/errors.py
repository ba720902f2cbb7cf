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


class ShopNameTaken(DomainError):
    code = "shop.name_taken"
    status = 409
    message = N_("This shop name is already taken or applied for.")


class ApplicationDecided(DomainError):
    code = "application.decided"
    status = 409
    message = N_("This application is already decided.")


class ApplicationNotEditable(DomainError):
    code = "application.not_editable"
    status = 409
    message = N_("Only an application sent back for more information can be changed.")


class ShippingFeesInvalid(DomainError):
    code = "shipping.invalid_fees"
    status = 422
    message = N_("Weights must be whole grams above zero, fees and thresholds zero or more.")


class ShippingTemplateNameTaken(DomainError):
    code = "shipping.name_taken"
    status = 409
    message = N_("The shop already has a shipping template with this name.")


class ProvinceInTwoRules(DomainError):
    """``codes`` (a fact) lists the provinces that another region of the template already covers."""

    code = "shipping.province_in_two_rules"
    status = 409
    message = N_("A province can be in only one region of a template: {provinces}.")


class NoProvinces(DomainError):
    code = "shipping.no_provinces"
    status = 422
    message = N_("Choose at least one province.")


class ReasonRequired(DomainError):
    code = "application.reason_required"
    status = 422
    message = N_("Give the applicant a reason.")
