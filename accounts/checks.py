"""Deployment checks of the accounts app (`manage.py check --deploy`, run by the web unit before it starts)."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register

# Senders that reach no person's phone: fine for development and tests, never the only channel of codes.
STAND_INS = {
    "accounts.messaging.LogSender",
    "accounts.messaging.DemoPhoneSender",
    "accounts.messaging.InboxSender",
    "accounts.messaging.OutboxSender",
}


@register(Tags.security, deploy=True)
def otp_channel_check(app_configs: Any, **kwargs: Any) -> list[Error]:
    """One-time codes must reach the person: a real sender, and an HTTPS gateway address for the SMS one."""
    senders = list(getattr(settings, "TIANJIE_OTP_SENDERS", []))
    errors = []
    if not [s for s in senders if s not in STAND_INS]:
        errors.append(
            Error(
                "一次性验证码没有真实的发送渠道 / one-time codes go to no real channel",
                hint="Set TIANJIE_OTP_SENDERS to a gateway sender (accounts.messaging.HttpSmsSender).",
                id="tianjie.E010",
            )
        )
    if "accounts.messaging.HttpSmsSender" in senders and not str(getattr(settings, "TIANJIE_SMS_URL", "")).startswith(
        "https://"
    ):
        errors.append(
            Error(
                "短信网关地址未设置或不是 https / the SMS gateway URL is missing or not https",
                hint="Set TIANJIE_SMS_URL (https://…) and TIANJIE_SMS_TOKEN.",
                id="tianjie.E011",
            )
        )
    return errors
