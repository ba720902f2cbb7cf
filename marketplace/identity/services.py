"""State changes of users, roles, login security and the admin IP allowlist.

Services flush; the caller's unit of work (request, job, command) commits.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from marketplace.core import audit
from marketplace.core.db import utcnow
from marketplace.core.jobs import enqueue
from marketplace.identity import errors
from marketplace.identity.models import AdminIpRule, LoginAttempt, Role, User, UserKind, user_roles
from marketplace.identity.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password
from marketplace.identity.roles import DEFAULT_ROLES, catalogue, expand
from marketplace.notifications.tasks import send_email

# --- users ------------------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise errors.WeakPassword(minimum=MIN_LENGTH)


def create_user(
    session: Session,
    *,
    kind: UserKind,
    email: str,
    password: str,
    name: str = "",
    phone: str | None = None,
    tenant_id: int | None = None,
    is_owner: bool = False,
    roles: list[Role] | None = None,
    granted_by: User | None = None,
) -> User:
    """Create an account. ``granted_by`` is the person creating it, who cannot give more than they hold."""
    email = normalise_email(email)
    check_password_strength(password)
    if granted_by is not None:
        check_can_grant(granted_by, roles or [])
    if session.scalar(select(User.id).where(User.kind == kind, User.email == email)):
        raise errors.EmailTaken()
    user = User(
        kind=kind,
        email=email,
        name=name.strip(),
        phone=phone,
        password_hash=hash_password(password),
        tenant_id=tenant_id,
        is_owner=is_owner,
        roles=list(roles or []),
    )
    session.add(user)
    session.flush()
    return user


def update_user(
    session: Session,
    user: User,
    *,
    actor: User,
    name: str,
    phone: str | None,
    roles: list[Role],
    is_active: bool,
) -> User:
    """Change profile, roles and status; nobody may deactivate themself or drop their own admin role."""
    check_can_grant(actor, [role for role in roles if role not in user.roles])
    if user.id == actor.id and (
        not is_active or _loses_admin(user, {p for role in roles for p in role.permissions})
    ):
        raise errors.CannotChangeSelf()
    if user.is_owner and user.id != actor.id:
        raise errors.OwnerProtected()
    if any(role.kind is not user.kind for role in roles):
        raise errors.UnknownPermission(name="role of another kind")
    user.name = name.strip()
    user.phone = phone or None
    user.roles = roles
    if user.is_active and not is_active:
        user.session_version += 1  # signs the user out everywhere
    user.is_active = is_active
    user.__dict__.pop("_permission_cache", None)
    session.flush()
    return user


ADMIN_PERMISSIONS = frozenset({"staff.manage", "roles.manage", "subaccounts.manage"})


def _loses_admin(user: User, permissions: set[str]) -> bool:
    """Whether ``user``, left with ``permissions``, would lose an administration right they hold."""
    return bool((ADMIN_PERMISSIONS & user.permissions) - permissions)


def check_can_grant(actor: User, roles: list[Role]) -> None:
    """Nobody hands out a permission they do not hold themselves (a sub-account cannot make an owner)."""
    missing = {p for role in roles for p in role.permissions} - actor.permissions
    if missing:
        raise errors.CannotGrant(permissions=", ".join(sorted(missing)))


def change_password(session: Session, user: User, *, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise errors.WrongCurrentPassword()
    set_password(session, user, new)


def set_password(session: Session, user: User, new: str) -> None:
    """Set a new password and sign out every existing session of the user."""
    check_password_strength(new)
    user.password_hash = hash_password(new)
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
    session.flush()


def sign_out_everywhere(session: Session, user: User) -> None:
    user.session_version += 1
    session.flush()


def load_session_user(session: Session, session_id: str) -> User | None:
    """Flask-Login's loader: the id carries the session version, so a bumped version ends old sessions."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    # Roles ride along in the same statement: this runs on every signed-in request.
    user = session.get(User, int(user_id), options=[joinedload(User.roles)])
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


# --- login and throttling ---------------------------------------------------------------------


def authenticate(session: Session, *, kind: UserKind, email: str, password: str, ip: str | None) -> User:
    """Check a login. Every try is recorded; repeated failures lock the account and throttle the address."""
    config = current_app.config
    email = normalise_email(email)
    now = utcnow()
    window_start = now - timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"])
    if ip:
        ip_failures = session.scalar(
            select(func.count(LoginAttempt.id)).where(
                LoginAttempt.ip == ip,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.created_at >= window_start,
            )
        )
        if ip_failures >= config["IP_LOGIN_FAILURE_LIMIT"]:
            _log_attempt(session, kind, email, ip, succeeded=False, reason="throttled")
            raise errors.TooManyAttempts()

    user = session.scalar(select(User).where(User.kind == kind, User.email == email))
    if user is not None and user.locked_until is not None and user.locked_until > now:
        _log_attempt(session, kind, email, ip, succeeded=False, reason="locked")
        raise errors.AccountLocked(until=user.locked_until.strftime("%Y-%m-%d %H:%M UTC"))

    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.is_active:
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= config["LOGIN_FAILURE_LIMIT"]:
                user.locked_until = now + timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"])
                user.failed_logins = 0
        _log_attempt(session, kind, email, ip, succeeded=False, reason="bad_credentials")
        raise errors.InvalidCredentials()

    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    user.last_login_ip = ip
    _log_attempt(session, kind, email, ip, succeeded=True, reason="")
    return user


def _log_attempt(
    session: Session, kind: UserKind, email: str, ip: str | None, *, succeeded: bool, reason: str
):
    session.add(LoginAttempt(kind=kind.value, email=email, ip=ip, succeeded=succeeded, reason=reason))
    session.flush()


def unlock_user(session: Session, user: User) -> None:
    user.locked_until = None
    user.failed_logins = 0
    audit.record(session, "user.unlock", user)
    session.flush()


# --- password reset ---------------------------------------------------------------------------


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def _password_fingerprint(user: User) -> str:
    # Part of the current hash: once the password changes, every older link stops working.
    return user.password_hash[-16:]


def request_password_reset(session: Session, *, kind: UserKind, email: str, reset_url: str) -> None:
    """Mail a signed, expiring link if the account exists; say nothing either way (no account probing).

    ``reset_url`` is the portal's reset page; the token is appended to it.
    """
    user = session.scalar(select(User).where(User.kind == kind, User.email == normalise_email(email)))
    if user is None or not user.is_active:
        return
    token = _reset_serializer().dumps({"uid": user.id, "fp": _password_fingerprint(user)})
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    enqueue(
        send_email,
        to=user.email,
        subject="Reset your password / 重置密码",
        body=f"Open this link within {minutes} minutes to choose a new password:\n{reset_url}{token}\n",
    )


def reset_password(session: Session, *, kind: UserKind, token: str, new_password: str) -> User:
    try:
        data = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except (SignatureExpired, BadSignature) as exc:
        raise errors.InvalidToken() from exc
    user = session.get(User, data.get("uid"))
    if user is None or user.kind is not kind or data.get("fp") != _password_fingerprint(user):
        raise errors.InvalidToken()
    set_password(session, user, new_password)
    return user


# --- roles ------------------------------------------------------------------------------------


def _check_permissions(kind: UserKind, permissions: list[str]) -> list[str]:
    known = catalogue(kind)
    for name in permissions:
        if name not in known:
            raise errors.UnknownPermission(name=name)
    return sorted(set(permissions))


def save_role(
    session: Session,
    *,
    kind: UserKind,
    name: str,
    permissions: list[str],
    role: Role | None = None,
    code=None,
    actor: User | None = None,
) -> Role:
    """Create a custom role, or change the name and permissions of an existing one.

    An ``actor`` who holds the role may not strip it of their own administration rights.
    """
    checked = _check_permissions(kind, permissions)
    if role is not None and actor is not None and any(r.id == role.id for r in actor.roles):
        kept = {p for r in actor.roles if r.id != role.id for p in r.permissions} | set(checked)
        if _loses_admin(actor, kept):
            raise errors.CannotChangeSelf()
    if role is None:
        role = Role(kind=kind, code=code or _role_code(name), is_system=False)
        session.add(role)
    role.name = name.strip()
    role.permissions = checked
    session.flush()
    return role


def _role_code(name: str) -> str:
    slug = "".join(ch if ch.isalnum() else "_" for ch in name.strip().lower()).strip("_")
    return f"custom_{slug[:40]}_{int(utcnow().timestamp())}"


def delete_role(session: Session, role: Role) -> None:
    if role.is_system:
        raise errors.SystemRoleProtected()
    count = session.scalar(
        select(func.count()).select_from(user_roles).where(user_roles.c.role_id == role.id)
    )
    if count:
        raise errors.RoleInUse(count=count)
    session.delete(role)
    session.flush()


def sync_default_roles(session: Session) -> list[Role]:
    """Create or refresh the system roles from :data:`DEFAULT_ROLES` (idempotent)."""
    existing = {(r.kind, r.code): r for r in session.scalars(select(Role).where(Role.is_system.is_(True)))}
    roles = []
    for kind, definitions in DEFAULT_ROLES.items():
        for code, (name, patterns) in definitions.items():
            role = existing.get((kind, code))
            if role is None:
                role = Role(kind=kind, code=code, is_system=True)
                session.add(role)
            role.name = name
            role.permissions = expand(kind, patterns)
            roles.append(role)
    session.flush()
    return roles


def role_by_code(session: Session, kind: UserKind, code: str) -> Role:
    role = session.scalar(select(Role).where(Role.kind == kind, Role.code == code))
    if role is None:
        raise LookupError(f"no {kind} role {code!r}; run flask seed-roles")
    return role


# --- admin IP allowlist -----------------------------------------------------------------------


def parse_network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError as exc:
        raise errors.InvalidCidr(cidr=cidr) from exc


def ip_allowed(session: Session, ip: str | None) -> bool:
    """Empty allowlist = every address; otherwise the address must fall in one of the ranges."""
    networks = [parse_network(c) for c in session.scalars(select(AdminIpRule.cidr))]
    return _covered(networks, ip)


def _covered(networks, ip: str | None) -> bool:
    if not networks:
        return True
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped:  # an IPv4 caller on a dual-stack socket
        address = address.ipv4_mapped
    return any(address.version == n.version and address in n for n in networks)


def add_ip_rule(
    session: Session, *, cidr: str, note: str, current_ip: str | None, created_by_id: int
) -> AdminIpRule:
    """Add a range; the list must still cover the adding admin's own address (no self lock-out)."""
    network = parse_network(cidr)
    existing = [parse_network(c) for c in session.scalars(select(AdminIpRule.cidr))]
    if str(network) in {str(n) for n in existing}:
        raise errors.InvalidCidr(f"{network} is already on the list.", cidr=cidr)
    if not _covered([*existing, network], current_ip):
        raise errors.WouldLockOut(ip=current_ip or "unknown")
    rule = AdminIpRule(cidr=str(network), note=note.strip(), created_by_id=created_by_id)
    session.add(rule)
    session.flush()
    return rule


def delete_ip_rule(session: Session, rule: AdminIpRule, *, current_ip: str | None) -> None:
    remaining = [
        parse_network(c) for c in session.scalars(select(AdminIpRule.cidr).where(AdminIpRule.id != rule.id))
    ]
    if not _covered(remaining, current_ip):
        raise errors.WouldLockOut(ip=current_ip or "unknown")
    session.delete(rule)
    session.flush()
