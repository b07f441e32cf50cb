"""One demo login per role, inside the demo county. The password is for demonstration only."""

from dataclasses import dataclass

from django.db import transaction

from accounts.models import Office, Role, User
from accounts.services import office_assign, user_create, user_phone_set
from contracts.models import Contractor
from core.codes import issuer_of
from spatial.models import Region

DEMO_PASSWORD = "tianjie-demo"  # noqa: S105 - printed by `make run`; demo data only, never real users


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    region: Region
    note: str = ""


def _plan(county: Region) -> list[tuple[str, str, Region, str]]:
    townships = list(county.children.order_by("code")[:2])
    township, other_township = townships[0], townships[1]
    # The demo group is the first group of the first township that has households.
    first = Contractor.objects.filter(cbfbm__startswith=township.code, valid_to__isnull=True).order_by("cbfbm")[0]
    group = Region.objects.select_related("parent").get(code=issuer_of(first.cbfbm))
    village = group.parent
    assert village is not None  # a group always has its village
    return [
        ("county", Role.COUNTY_AGRICULTURE, county, "县农业农村局"),
        ("ziyuan", Role.COUNTY_NATURAL_RESOURCES, county, "县自然资源局"),
        ("township", Role.TOWNSHIP, township, f"{township.name}人民政府"),
        ("township2", Role.TOWNSHIP, other_township, f"{other_township.name}人民政府"),
        ("village", Role.VILLAGE, village, f"{village.name}民委员会"),
        ("group", Role.GROUP_ISSUER, group, group.name),
        ("surveyor", Role.SURVEYOR, county, "示范测绘有限公司"),
        ("farmer", Role.FARMER, group, "承包农户"),
        ("farmer2", Role.FARMER, group, "承包农户（同组邻户）"),  # the other side of a transfer or an exchange
    ]


DEMO_FARMER_PHONE = "13900000001"  # made up; the demo farmer logs in with it at /my/login/


def demo_farmer_id_number() -> str:
    """The demo farmer's ID number (generated demo data), printed with the demo logins for the phone login."""
    office = Office.objects.filter(user__username="farmer", role=Role.FARMER).first()
    if office is None:
        return ""
    household = Contractor.objects.filter(cbfbm=office.contractor_code, valid_to__isnull=True).first()
    return household.id_number if household else ""


@transaction.atomic
def demo_users_create(*, county: Region) -> list[DemoLogin]:
    out = []
    for username, role, region, organisation in _plan(county):
        user = User.objects.filter(username=username).first()
        contractor_code, phone = "", ""
        real_name = organisation
        if role == Role.FARMER:
            nth = 1 if username == "farmer2" else 0
            household = Contractor.objects.filter(issuer__fbfbm=region.code, valid_to__isnull=True).order_by("cbfbm")[
                nth
            ]
            contractor_code, real_name = household.cbfbm, household.name
            phone = DEMO_FARMER_PHONE if username == "farmer" else ""
        if user is None:
            user = user_create(actor=None, username=username, password=DEMO_PASSWORD, real_name=real_name, phone=phone)
        elif phone and not user.phone:  # a demo made before the phone login
            user_phone_set(actor=None, user=user, phone=phone)
        if not Office.objects.filter(user=user, role=role, region=region, active=True).exists():
            office_assign(
                actor=None,
                user=user,
                role=role,
                region=region,
                contractor_code=contractor_code,
                organisation=organisation,
            )
        out.append(DemoLogin(username, role, region, organisation))
    return out


def demo_logins() -> list[DemoLogin]:
    offices = Office.objects.filter(user__username__in=_PLAN_NAMES).select_related("user", "region")
    order = {name: i for i, name in enumerate(_PLAN_NAMES)}
    return sorted(
        (DemoLogin(o.user.username, o.role, o.region, o.organisation) for o in offices),
        key=lambda d: order[d.username],
    )


_PLAN_NAMES = ["county", "ziyuan", "township", "township2", "village", "group", "surveyor", "farmer", "farmer2"]
