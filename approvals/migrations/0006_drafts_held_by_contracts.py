"""The filing rules move to the contracts app (contracts 0006): drafts of applications already publicised
get their application's code and, for two households, the draft to file with; those whose contract notice
still runs are held until it ends, as application_publicise now does."""

from django.db import migrations


def hold_running_drafts(apps, schema_editor):  # noqa: ANN001, ANN201
    Application = apps.get_model("approvals", "Application")
    Contract = apps.get_model("contracts", "Contract")
    for app in Application.objects.filter(state__in=["contract_publicity", "signing"]).select_related(
        "draft", "other_draft", "notice"
    ):
        drafts = [d for d in (app.draft, app.other_draft) if d is not None and d.status == "pending"]
        codes = [d.cbhtbm for d in drafts]
        for draft in drafts:
            fields = {
                "application_code": app.code,
                "file_with": next((c for c in codes if c != draft.cbhtbm), ""),
            }
            if app.state == "contract_publicity":
                notice = app.notice
                fields["filing_hold"] = (
                    f"业务申请 {app.code} 的合同正在公示（{notice.code}，至 {notice.ends_on}）"
                    if notice
                    else f"业务申请 {app.code} 的合同正在公示"
                )
            Contract.objects.filter(pk=draft.pk).update(**fields)


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0005_other_household_indexes"),
        ("contracts", "0006_filing_hold"),
        ("publicity", "0003_notices"),
    ]

    operations = [migrations.RunPython(hold_running_drafts, migrations.RunPython.noop)]
