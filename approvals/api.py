"""The applications REST API: every action of the pages, with the same services and so the same
permissions (a login session or an API token). Errors are the typed JSON of accounts.api_errors: 400 bad
input, 403 not yours, 404 not visible, 409 someone else decided first."""

from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from core.errors import NotFoundError

from . import selectors
from .materials import material_upload
from .models import Application
from .serializers import (
    ApplicationCreateInput,
    ApplicationDetailSerializer,
    ApplicationSerializer,
    DecideInput,
    ExpectedInput,
    MaterialInput,
    MaterialSerializer,
    ReasonInput,
    SubmitInput,
)
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
from .workflow import State, is_overdue, user_actions

PAGE = 100


def _user(request: Request) -> User:
    return cast(User, request.user)


def _app(request: Request, code: str) -> Application:
    app = selectors.visible_application(_user(request), code)
    if app is None:
        raise NotFoundError("没有这份申请，或无权查看", "no such application, or not yours to see")
    return app


def _row(app: Application) -> Application:
    app.overdue = is_overdue(app)  # type: ignore[attr-defined]
    return app


def _detail(app: Application, user: User) -> dict[str, Any]:
    app = _row(Application.objects.select_related("survey_task", "notice").get(pk=app.pk))
    app.missing_materials = missing_materials(app)  # type: ignore[attr-defined]
    app.actions = sorted(user_actions(user, app))  # type: ignore[attr-defined]
    return cast(dict[str, Any], ApplicationDetailSerializer(app).data)


def _page(request: Request, rows: Any) -> Response:
    try:
        offset = max(0, int(request.query_params.get("offset", 0)))
    except ValueError:
        offset = 0
    items = [_row(a) for a in rows.select_related("survey_task", "notice")[offset : offset + PAGE]]
    return Response({"offset": offset, "results": ApplicationSerializer(items, many=True).data})


class ApplicationListApi(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="applications_list",
        summary="我能看到的申请 / The applications I may see, newest first",
        parameters=[OpenApiParameter("state", str), OpenApiParameter("offset", int)],
        responses=ApplicationSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        rows = selectors.applications_visible(_user(request))
        state = request.query_params.get("state", "")
        if state in State.values:
            rows = rows.filter(state=state)
        return _page(request, rows.order_by("-created_at", "-pk"))

    @extend_schema(
        operation_id="applications_create",
        summary="新申请（草稿）/ A new application, as a draft",
        request=ApplicationCreateInput,
        responses={201: ApplicationDetailSerializer},
    )
    def post(self, request: Request) -> Response:
        data = ApplicationCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        change = dict(v.get("change_data") or {})
        for key in ("term_start", "term_end"):
            if key in change:
                change[key] = change[key].isoformat()
        app = application_create(
            actor=_user(request),
            business=v["business"],
            cbfbm=v["cbfbm"],
            summary=v["summary"],
            dkbms=v.get("dkbms") or [],
            change_data=change,
        )
        return Response(_detail(app, _user(request)), status=201)


class InboxApi(APIView):
    @extend_schema(
        operation_id="applications_inbox",
        summary="待我办理（期限最早在前）/ What waits for me, soonest deadline first",
        parameters=[OpenApiParameter("offset", int)],
        responses=ApplicationSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        return _page(request, selectors.inbox(_user(request)))


class ApplicationDetailApi(APIView):
    @extend_schema(
        operation_id="applications_detail", summary="一份申请 / One application", responses=ApplicationDetailSerializer
    )
    def get(self, request: Request, code: str) -> Response:
        return Response(_detail(_app(request, code), _user(request)))


class _ActionApi(APIView):
    """One action on one application: the input checked, the service called (which checks who may), the
    application answered as it now is. A subclass names its input and calls its service in `act`."""

    parser_classes = [JSONParser, FormParser]
    input_class: type[serializers.Serializer] = ExpectedInput

    def act(self, request: Request, app: Application, data: dict[str, Any]) -> Application:
        raise NotImplementedError

    def post(self, request: Request, code: str) -> Response:
        data = self.input_class(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(_detail(self.act(request, _app(request, code), data.validated_data), _user(request)))


def _action_schema(operation_id: str, summary: str, request: Any) -> Any:
    return extend_schema_view(
        post=extend_schema(
            operation_id=operation_id, summary=summary, request=request, responses=ApplicationDetailSerializer
        )
    )


@_action_schema("applications_submit", "提交 / Submit", SubmitInput)
class SubmitApi(_ActionApi):
    input_class = SubmitInput

    def act(self, request: Request, app: Application, data: dict[str, Any]) -> Application:
        return application_submit(
            actor=_user(request), application=app, expected=data.get("expected"), reply=data.get("reply", "")
        )


@_action_schema(
    "applications_decide",
    "审核决定：同意、退回、不予批准、安排测绘 / Decide: approve, return, reject, order a survey",
    DecideInput,
)
class DecideApi(_ActionApi):
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    input_class = DecideInput

    def act(self, request: Request, app: Application, data: dict[str, Any]) -> Application:
        survey = None
        if data["decision"] == "survey":
            survey = {
                "assignee": User.objects.filter(username=data.get("assignee", "")).first(),
                "company": data.get("company", ""),
                "due_on": data.get("due_on"),
            }
        return application_decide(
            actor=_user(request),
            application=app,
            decision=data["decision"],
            comment=data.get("comment", ""),
            expected=data.get("expected"),
            survey=survey,
            attachment=data.get("attachment"),
        )


@_action_schema("applications_withdraw", "撤回 / Withdraw", ReasonInput)
class WithdrawApi(_ActionApi):
    input_class = ReasonInput

    def act(self, request: Request, app: Application, data: dict[str, Any]) -> Application:
        return application_withdraw(actor=_user(request), application=app, reason=data.get("reason", ""))


@_action_schema("applications_publicise", "起草新合同并公示 / Draft the new contract and publicise it", ExpectedInput)
class PubliciseApi(_ActionApi):
    def act(self, request: Request, app: Application, data: dict[str, Any]) -> Application:
        return application_publicise(actor=_user(request), application=app, expected=data.get("expected"))


@_action_schema(
    "applications_register",
    "县级登记：补发、换发、注销权证，注销合同 / Register a certificate action or a cancellation",
    ReasonInput,
)
class RegisterApi(_ActionApi):
    input_class = ReasonInput

    def act(self, request: Request, app: Application, data: dict[str, Any]) -> Application:
        return application_register(actor=_user(request), application=app, reason=data.get("reason", ""))


@_action_schema(
    "applications_file_together",
    "两户的合同一并备案（转让、互换、合户、分户）/ File both households' contracts",
    ExpectedInput,
)
class FileTogetherApi(_ActionApi):
    def act(self, request: Request, app: Application, data: dict[str, Any]) -> Application:
        return application_file_together(actor=_user(request), application=app, expected=data.get("expected"))


class MaterialApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="applications_material_upload",
        summary="上传申请材料 / Upload a material",
        request={"multipart/form-data": MaterialInput},
        responses={201: MaterialSerializer},
    )
    def post(self, request: Request, code: str) -> Response:
        data = MaterialInput(data=request.data)
        data.is_valid(raise_exception=True)
        material = material_upload(
            actor=_user(request),
            application=_app(request, code),
            name=data.validated_data["name"],
            upload=data.validated_data["file"],
        )
        return Response(MaterialSerializer(material).data, status=201)
