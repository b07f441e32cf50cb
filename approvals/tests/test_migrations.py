"""Data migrations of approvals, run against the real models on a demo application."""

import importlib

from django.apps import apps

from accounts.models import User
from approvals.services import application_create, application_decide, application_publicise, application_submit
from approvals.tests.test_workflow import with_materials
from approvals.workflow import State
from contracts.models import Contract, Contractor

hold = importlib.import_module("approvals.migrations.0006_drafts_held_by_contracts").hold_running_drafts


def test_drafts_publicised_before_the_upgrade_are_held_by_the_contracts_app(demo, posting_day):
    village = User.objects.get(username="village")
    cbfbm = User.objects.get(username="farmer").offices.get().contractor_code
    head = Contractor.objects.get(cbfbm=cbfbm, valid_to__isnull=True)
    rep = head.members.exclude(name=head.name).order_by("pk").first()
    app = application_create(
        actor=village, business="1032", cbfbm=cbfbm, summary="改由配偶为代表", change_data={"representative": rep.pk}
    )
    app = application_submit(actor=village, application=with_materials(app, village))
    for officer in ("village", "township", "county"):
        app = application_decide(actor=User.objects.get(username=officer), application=app, decision="approve")
    app = application_publicise(actor=village, application=app)
    assert app.state == State.CONTRACT_PUBLICITY
    Contract.objects.filter(pk=app.draft.pk).update(application_code="", filing_hold="")  # as before the upgrade

    hold(apps, None)

    draft = Contract.objects.get(pk=app.draft.pk)
    assert draft.application_code == app.code and app.notice.code in draft.filing_hold
