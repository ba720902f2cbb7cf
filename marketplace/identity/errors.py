"""Identity errors, with stable codes the portals and API turn into messages."""

from marketplace.core.errors import N_, DomainError


class InvalidCredentials(DomainError):
    code = "auth.invalid_credentials"
    status = 401
    message = N_("Wrong email or password.")


class WrongCurrentPassword(DomainError):
    code = "auth.wrong_current_password"
    status = 422
    message = N_("The current password is wrong.")


class AccountLocked(DomainError):
    code = "auth.locked"
    status = 423
    message = N_("Too many failed attempts. The account is locked until {until}.")


class TooManyAttempts(DomainError):
    code = "auth.throttled"
    status = 429
    message = N_("Too many failed logins from this address. Try again later.")


class AddressNotAllowed(DomainError):
    code = "auth.ip_not_allowed"
    status = 403
    message = N_("The admin portal is not open to your address ({ip}).")


class InvalidToken(DomainError):
    code = "auth.invalid_token"
    message = N_("This link is invalid or has expired. Ask for a new one.")


class WeakPassword(DomainError):
    code = "auth.weak_password"
    status = 422
    message = N_("A password needs at least {minimum} characters.")


class EmailTaken(DomainError):
    code = "user.email_taken"
    status = 409
    message = N_("An account with this email already exists.")


class InvalidCidr(DomainError):
    code = "ip_rule.invalid"
    status = 422
    message = N_("{cidr!r} is not an IP address or CIDR range.")


class WouldLockOut(DomainError):
    code = "ip_rule.would_lock_out"
    status = 409
    message = N_("This change would shut out your own address ({ip}). Add a rule that covers it first.")


class RoleInUse(DomainError):
    code = "role.in_use"
    status = 409
    message = N_("The role is still assigned to {count} user(s).")


class SystemRoleProtected(DomainError):
    code = "role.system"
    status = 409
    message = N_("System roles cannot be deleted.")


class UnknownPermission(DomainError):
    code = "role.unknown_permission"
    status = 422
    message = N_("Unknown permission: {name}.")


class CannotChangeSelf(DomainError):
    code = "user.self_change"
    status = 409
    message = N_("You cannot deactivate yourself or remove your own administration rights.")


class OwnerProtected(DomainError):
    code = "user.owner_protected"
    status = 409
    message = N_("The shop owner's account can only be changed by the owner.")


class CannotGrant(DomainError):
    code = "role.cannot_grant"
    status = 403
    message = N_("You cannot give permissions you do not hold yourself: {permissions}.")
