from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "用户与岗位 Users and offices"

    def ready(self) -> None:
        from spatial.permissions import register_checker

        from .scoping import ensure_can

        register_checker(ensure_can)
