from typing import Any

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "用户与岗位 Users and offices"

    def ready(self) -> None:
        from core.ports import register_checker

        from . import checks  # noqa: F401 - registers the deploy checks
        from .scoping import ensure_can

        register_checker(ensure_can)

        from django.contrib.auth.signals import user_logged_out

        from .selectors import tile_scope_forget

        def _forget(sender: object, request: object, **kwargs: object) -> None:
            tile_scope_forget(getattr(getattr(request, "session", None), "session_key", None))

        user_logged_out.connect(_forget, weak=False, dispatch_uid="tianjie.tile_scope_forget")

        from django.contrib.auth.signals import user_logged_in

        from .services import login_record

        def _logged_in(sender: object, request: Any, user: Any, **kwargs: object) -> None:
            # the phone login says so on the request; otherwise it was the password form (or a test)
            method = getattr(request, "tianjie_login_method", "password") if request is not None else "password"
            ip = request.META.get("REMOTE_ADDR") if request is not None else None
            login_record(user=user, method=method, ip=ip)

        user_logged_in.connect(_logged_in, weak=False, dispatch_uid="tianjie.login_audit")
