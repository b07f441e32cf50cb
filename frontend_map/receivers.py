"""The pages app tells people about events of the lower apps (it alone may use both the contracts'
signals and publicity's inbox): a call to a service, nothing more."""

from typing import Any

from django.urls import reverse

from accounts.models import Office, Role
from accounts.notifications import notify_users, officers_of


def on_contract_filed(sender: Any, *, entries: Any, actor: Any, **kwargs: Any) -> None:
    """The household's accounts and the issuer's officers get each filing in their inbox, with the link to
    the signed contract."""
    for entry in entries:
        _tell_filed(entry)


def _tell_filed(entry: Any) -> None:
    contract = entry.contract
    title = f"合同已备案 Contract filed：{contract.cbhtbm}"
    body = (
        f"{contract.contractor.name}户的承包合同（第 {contract.version} 版）已于 {entry.djsj:%Y-%m-%d} 备案，"
        f"权证流水号 {entry.cbjyqzlsh}。原权证请交回发包方。"
    )
    farmers = [
        o.user
        for o in Office.objects.filter(
            active=True, role=Role.FARMER, contractor_code=contract.contractor.cbfbm
        ).select_related("user")
    ]
    notify_users(farmers, title=title, body=body, url=reverse("my-contracts"))
    notify_users(
        officers_of([contract.issuer.fbfbm]),
        title=title,
        body=body,
        url=reverse("contract-document", args=[entry.document_id]),
    )
