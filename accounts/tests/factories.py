"""factory_boy factories for people and offices; offices are made through the service, as in the app."""

import factory

from accounts.models import Office, Role, User
from accounts.services import office_assign
from spatial.models import Region


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    real_name = factory.Sequence(lambda n: f"测试用户{n}")
    password = factory.PostGenerationMethodCall("set_password", "a-long-test-password")


def office_for(*, role: str, region_code: str, contractor_code: str = "", user: User | None = None) -> Office:
    return office_assign(
        actor=None,
        user=user or UserFactory(),
        role=role,
        region=Region.objects.get(code=region_code),
        contractor_code=contractor_code,
    )


__all__ = ["Role", "UserFactory", "office_for"]
