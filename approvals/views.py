"""Application pages: the list with the user's inbox (overdue first), a new application (the farmer on a
phone, or the issuer's officer for a household), the application page (map of old and new parcels,
materials, the step history as a timeline, the decision form), a material's file, and the county's
dashboard. Every page reads through approvals.selectors and writes through the services."""

from datetime import date
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from accounts.models import Office, Role, User
from accounts.scoping import can, scope_prefixes
from accounts.selectors import household_codes
from contracts.models import ContractParcel
from core.codes import county_of
from core.errors import DomainError
from core.ports import imagery_layers

from . import selectors
from .materials import material_names, material_upload
from .models import Application
from .registry import current_household, other_household_code
from .services import (
    application_create,
    application_decide,
    application_file_together,
    application_publicise,
    application_register,
    application_submit,
    application_withdraw,
    missing_materials,
)
from .workflow import REQUIRED_MATERIALS, BusinessType, State, is_overdue, issuer, user_actions

MAP_STYLE = {
    "old": {"color": "#1565c0", "fillColor": "#90caf9", "weight": 2},
    "new": {"color": "#e65100", "fillColor": "#ffcc80", "weight": 3, "dashArray": "6 4"},
}


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _app(request: HttpRequest, code: str) -> Application:
    app = selectors.visible_application(_user(request), code)
    if app is None:
        raise Http404("没有这份申请，或无权查看 / no such application, or not yours to see")
    return app


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    """/applications/: what waits for me (overdue first), then the applications I may see."""
    user = _user(request)
    state = request.GET.get("state", "")
    visible = selectors.applications_visible(user).select_related("applicant")
    if state in State.values:
        visible = visible.filter(state=state)
    return render(
        request,
        "approvals/list.html",
        {
            "inbox": selectors.with_overdue(list(selectors.inbox(user)[:100])),
            "rows": selectors.with_overdue(list(visible.order_by("-created_at")[:100])),
            "states": State.choices,
            "state": state,
            "officer": selectors.is_officer(user),
            "county": bool(scope_prefixes(user, "applications.county_review")),
        },
    )


def _members_form(request: HttpRequest) -> dict[str, Any]:
    post = request.POST
    added = []
    if post.get("new_name", "").strip():
        added.append(
            {
                "name": post.get("new_name", ""),
                "sex": post.get("new_sex", ""),
                "relation": post.get("new_relation", ""),
                "id_number": post.get("new_id_number", ""),
            }
        )
    data: dict[str, Any] = {"members_removed": post.getlist("remove"), "members_added": added}
    if post.get("representative"):
        data["representative"] = post.get("representative")
    return data


def _change_form(request: HttpRequest, business: str) -> dict[str, Any]:
    """The change data the new-application form carries for its business type."""
    post = request.POST
    if business in (BusinessType.MEMBERS, BusinessType.REPRESENTATIVE):
        return _members_form(request)
    if business in (BusinessType.TRANSFER, BusinessType.EXCHANGE, BusinessType.MERGE):
        return {
            "other_cbfbm": post.get("other_cbfbm", ""),
            "parcels_in": post.get("parcels_in", "").replace("，", " ").replace(",", " ").split(),
        }
    if business == BusinessType.SPLIT:
        return {"members_leaving": post.getlist("leaving")}
    return {}


@login_required
def application_new(request: HttpRequest) -> HttpResponse:
    """/applications/new/: a farmer applies for their household; an issuer's officer first names the
    household (?cbfbm=), then applies for it."""
    user = _user(request)
    own = household_codes(user)
    cbfbm = (request.POST.get("cbfbm") or request.GET.get("cbfbm") or (own[0] if len(own) == 1 else "")).strip()
    allowed = cbfbm in own or (cbfbm and can(user, "applications.issuer_review", cbfbm))
    household = current_household(cbfbm) if allowed else None
    error = None
    if request.method == "POST" and household is not None:
        business = request.POST.get("business", "")
        try:
            app = application_create(
                actor=user,
                business=business,
                cbfbm=cbfbm,
                summary=request.POST.get("summary", ""),
                dkbms=request.POST.getlist("dkbms"),
                change_data=_change_form(request, business),
            )
            return redirect("application-page", code=app.code)
        except DomainError as exc:
            error = exc
    elif cbfbm and household is None:
        error = DomainError("没有这个承包方，或不在您的范围内", "no such household, or not in your region")
    parcels = (
        list(
            ContractParcel.objects.filter(contract__contractor__cbfbm=cbfbm, contract__valid_to__isnull=True)
            .select_related("parcel")
            .order_by("dkbm")
        )
        if household
        else []
    )
    return render(
        request,
        "approvals/new.html",
        {
            "household": household,
            "members": household.members.order_by("pk") if household else [],
            "parcels": parcels,
            "cbfbm": cbfbm,
            "types": BusinessType.choices,
            "materials": {k: v for k, v in REQUIRED_MATERIALS.items()},
            "error": error,
            "post": request.POST,
            "officer": bool(scope_prefixes(user, "applications.issuer_review")),
        },
    )


def _survey_args(request: HttpRequest) -> dict[str, Any]:
    due = None
    try:
        due = date.fromisoformat(request.POST.get("due_on") or "")
    except ValueError:
        pass
    return {
        "assignee": User.objects.filter(pk=request.POST.get("assignee") or 0).first(),
        "company": request.POST.get("company", ""),
        "due_on": due,
    }


@login_required
def application_page(request: HttpRequest, code: str) -> HttpResponse:
    """/applications/<code>/: everything about one application and what the user may do with it now."""
    app = _app(request, code)
    user = _user(request)
    error = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        expected = request.POST.get("expected") or None
        try:
            if action == "upload":
                upload = request.FILES.get("file")
                if upload is None:
                    raise DomainError("请选择文件", "choose a file", field="file")
                material_upload(actor=user, application=app, name=request.POST.get("name", ""), upload=upload)
            elif action == "submit":
                application_submit(actor=user, application=app, expected=expected, reply=request.POST.get("reply", ""))
            elif action == "withdraw":
                application_withdraw(actor=user, application=app, reason=request.POST.get("comment", ""))
            elif action == "publicise":
                application_publicise(actor=user, application=app, expected=expected)
            elif action == "file_together":
                application_file_together(actor=user, application=app, expected=expected)
            elif action == "register":
                application_register(
                    actor=user, application=app, expected=expected, reason=request.POST.get("comment", "")
                )
            elif action == "decide":
                decision = request.POST.get("decision", "")
                application_decide(
                    actor=user,
                    application=app,
                    decision=decision,
                    comment=request.POST.get("comment", ""),
                    expected=expected,
                    survey=_survey_args(request) if decision == "survey" else None,
                    attachment=request.FILES.get("attachment"),
                )
            else:
                raise DomainError("未知的操作", "unknown action")
            return redirect("application-page", code=app.code)
        except DomainError as exc:
            error = exc
        app = _app(request, code)
    actions = user_actions(user, app)
    surveyors = (
        [o.user for o in Office.objects.filter(role=Role.SURVEYOR, active=True, region__code=county_of(app.fbfbm))]
        if "county_order_survey" in actions
        else []
    )
    return render(
        request,
        "approvals/application.html",
        {
            "app": app,
            "state": State(app.state),
            "business": BusinessType(app.business).label,
            "steps": app.steps.select_related("actor").order_by("at", "pk"),
            "materials": app.materials.order_by("name", "uploaded_at"),
            "material_names": material_names(app),
            "missing": missing_materials(app),
            "actions": actions,  # approvals.workflow.user_actions: what this user may do now
            "is_household": bool({app.cbfbm, other_household_code(app)} & set(household_codes(user))),
            "drafts": [d for d in (app.draft, app.other_draft) if d is not None],
            "is_issuer": issuer(app, user),
            "surveyors": surveyors,
            "overdue": is_overdue(app),
            "error": error,
            "map_config": {
                "layers": [
                    {
                        "url": f"/applications/{app.code}/parcels.geojson",
                        "style": {"fillOpacity": 0.3},
                        "byStatus": MAP_STYLE,
                    }
                ],
                "imagery": imagery_layers(user),
            },
        },
    )


@login_required
def application_parcels(request: HttpRequest, code: str) -> JsonResponse:
    return JsonResponse(selectors.parcels_geojson(_app(request, code)))


@login_required
def material_file(request: HttpRequest, code: str, material_id: int) -> FileResponse:
    """A material's file, for whoever may see the application (the viewer shows it inline)."""
    app = _app(request, code)
    material = app.materials.filter(pk=material_id).first()
    if material is None:
        raise Http404("没有这份材料 / no such material")
    return FileResponse(open(material.path, "rb"), content_type=material.content_type)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """/applications/dashboard/: the county's counts per township (waiting, overdue, filed this month)."""
    counties = sorted({county_of(p) for p in scope_prefixes(_user(request), "applications.county_review")})
    if not counties:
        raise Http404("县级审批人员才能查看 / for the county's reviewers")
    rows = selectors.township_counts(counties[0])
    top = max([max(r["waiting"], r["filed"]) for r in rows] + [1])
    return render(request, "approvals/dashboard.html", {"rows": rows, "top": top, "county": counties[0]})
