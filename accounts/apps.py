from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "用户与岗位 Users and offices"

    def ready(self) -> None:
        from spatial.permissions import register_checker

        from .scoping import ensure_can

        register_checker(ensure_can)

        from django.contrib.auth.signals import user_logged_out

        from .selectors import tile_scope_forget

        def _forget(sender: object, request: object, **kwargs: object) -> None:
            tile_scope_forget(getattr(getattr(request, "session", None), "session_key", None))

        user_logged_out.connect(_forget, weak=False, dispatch_uid="tianjie.tile_scope_forget")
