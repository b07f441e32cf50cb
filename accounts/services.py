"""Writes to users and offices; each checks the actor, runs in one transaction and is audited."""

from django.db import transaction

from audit import services as audit
from core.effects import after_commit
from core.errors import CodeError
from spatial.models import Region

from .models import ROLE_LEVELS, Office, Role, User
from .scoping import ensure_can
from .selectors import scope_cache_clear


@transaction.atomic
def office_assign(
    *,
    actor: User | None,
    user: User,
    role: str,
    region: Region,
    contractor_code: str = "",
    organisation: str = "",
) -> Office:
    """Give `user` a role at `region`. `actor` None is the system (demo loader, management commands)."""
    if actor is not None:
        ensure_can(actor, "offices.edit", region.code)
    if role not in Role.values:
        raise CodeError(f"未知岗位 {role}", f"unknown role {role}", field="role")
    if region.level not in ROLE_LEVELS[role]:
        raise CodeError(
            f"岗位“{Role(role).label}”不能设在{region.get_level_display()}一级",
            f"role {role} cannot sit at a {region.level}",
            field="region",
        )
    if role == Role.FARMER and not contractor_code.startswith(region.code):
        raise CodeError(
            "农户岗位须关联本组的承包方编码",
            "a farmer's office needs a contractor code of its group",
            field="contractor_code",
        )
    office, _ = Office.objects.update_or_create(
        user=user,
        role=role,
        region=region,
        defaults={"contractor_code": contractor_code, "organisation": organisation, "active": True},
    )
    after_commit(scope_cache_clear, user.pk)
    audit.record(
        actor=actor,
        action="office.assigned",
        subject=office,
        region_code=region.code,
        data={"user": user.username, "role": role, "region": region.code},
    )
    return office


@transaction.atomic
def user_create(*, actor: User | None, username: str, password: str, real_name: str, phone: str = "") -> User:
    user = User.objects.create_user(username=username, password=password, real_name=real_name, phone=phone)
    audit.record(actor=actor, action="user.created", subject=user, data={"username": username})
    return user


@transaction.atomic
def login_record(*, user: User, method: str, ip: str | None = None) -> None:
    """A successful login (the password form, or a phone with its one-time code), in the audit log."""
    audit.record(actor=user, action="user.logged_in", subject=user, data={"method": method}, ip=ip)


@transaction.atomic
def user_phone_set(*, actor: User | None, user: User, phone: str) -> User:
    """The phone number a user logs in with (farmers, /my/login/) and gets codes on. `actor` None is the
    system (the demo loader); otherwise the county bureau's office administrators."""
    if actor is not None:
        for code in {o.region.code for o in user.offices.select_related("region")} or {""}:
            ensure_can(actor, "offices.edit", code)
    phone = phone.strip()
    if not (len(phone) == 11 and phone.isdigit() and phone.startswith("1")):
        raise CodeError("手机号应为 11 位数字", "a mobile number has 11 digits", field="phone")
    user.phone = phone
    user.save(update_fields=["phone"])
    audit.record(actor=actor, action="user.phone_set", subject=user, data={"username": user.username})
    return user
