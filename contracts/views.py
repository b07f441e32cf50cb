"""The platform's RFC 3161 timestamp service, the public signature check, and the signing pages: the
issuer officer's contract list and preparation, the parties' signing page, the farmer's own contracts."""

from datetime import date
from typing import Any, cast

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.identity import IdentityError, otp_issue, otp_verify
from accounts.models import IdentityCheck, Office, Role, User
from accounts.scoping import scope_prefixes, scope_q
from accounts.selectors import household_codes
from core.codes import validate_resident_id
from core.errors import DomainError
from core.ports import imagery_layers
from core.throttle import allow
from spatial.models import VersionStatus

from .filing import certificate_recover, contract_draft, contract_draft_withdraw, contract_file
from .models import Certificate, CertificateStatus, Contract, ContractDocument, RegisterEntry
from .paper import scan_attach
from .pdfsign import tsa_respond, verify_pdf
from .selectors import (
    document_party,
    farmer_for_phone_login,
    issuer_contract,
    my_contracts,
    my_parcels_geojson,
    own_signed_document,
)
from .signing import document_generate, document_sign, sign_purpose, signed_pdf, signer_identity_verify


def _date(text: str | None) -> date | None:
    """A date from a form field (YYYY-MM-DD); empty means "not given"."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise DomainError(f"日期格式不对：{text}", f"not a date (YYYY-MM-DD): {text}", field="date") from exc


def _user(request: HttpRequest) -> User:
    """The logged-in user (the views that call this are @login_required)."""
    return cast(User, request.user)


MAX_REQUEST_BYTES = 16 * 1024  # a timestamp request is a few hundred bytes


# /tsa/ and /verify/ need no login; each address gets this many requests an hour (the signing service
# stamps through contracts.pdfsign directly, not over HTTP, so these limits never slow a signature).
TSA_PER_HOUR, VERIFY_PER_HOUR = 600, 60


def _too_many(request: HttpRequest, scope: str, limit: int) -> HttpResponse | None:
    if allow(scope, request.META.get("REMOTE_ADDR", ""), limit=limit, window_seconds=3600):
        return None
    response = HttpResponse(
        "请求过于频繁，请一小时后再试 / too many requests: try again in an hour",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = "3600"
    return response


@csrf_exempt  # a protocol endpoint for signing software, not a form; it changes nothing
@require_POST
def timestamp_authority(request: HttpRequest) -> HttpResponse:
    refused = _too_many(request, "tsa", TSA_PER_HOUR)
    if refused is not None:
        return refused
    body = request.body[: MAX_REQUEST_BYTES + 1]
    if len(body) > MAX_REQUEST_BYTES or not body:
        return HttpResponse("请求过大或为空 / request empty or too large", status=400, content_type="text/plain")
    try:
        reply = tsa_respond(body)
    except (ValueError, TypeError, KeyError):
        return HttpResponse("不是时间戳请求 / not a TimeStampReq", status=400, content_type="text/plain")
    return HttpResponse(reply, content_type="application/timestamp-reply")


MAX_VERIFY_BYTES = 50 * 1024 * 1024


def verify_page(request: HttpRequest) -> HttpResponse:
    """/verify/: anyone (no login) uploads a signed contract PDF and reads who signed it, when, and
    whether it is intact and valid."""
    report, error, name = None, None, ""
    if request.method == "POST":
        refused = _too_many(request, "verify", VERIFY_PER_HOUR)
        if refused is not None:
            return refused
        upload = request.FILES.get("file")
        if upload is None:
            error = "请选择 PDF 文件 / choose a PDF file"
        elif upload.size and upload.size > MAX_VERIFY_BYTES:
            error = "文件超过 50 MB / the file is larger than 50 MB"
        else:
            name = upload.name or ""
            report = verify_pdf(upload.read())
    return render(request, "contracts/verify.html", {"report": report, "error": error, "name": name})


@login_required
def my_contracts_page(request: HttpRequest) -> HttpResponse:
    """/my/contracts/: a farmer's own household: contracts, parcels, certificate status, the signed PDF."""
    return render(
        request,
        "contracts/mine.html",
        {
            "rows": my_contracts(request.user),
            "is_farmer": bool(household_codes(request.user)),
            "map_config": {"geojson": reverse("my-parcels"), "imagery": imagery_layers(request.user)},
        },
    )


def my_signed_pdf(request: HttpRequest, document_id: int) -> HttpResponse:
    document = own_signed_document(request.user, document_id) if request.user.is_authenticated else None
    if document is None:
        raise Http404("没有这份合同 / no such contract")
    resp = HttpResponse(signed_pdf(document), content_type="application/pdf")
    resp["Content-Disposition"] = f'attachment; filename="{document.contract.cbhtbm}.pdf"'
    return resp


def _party(request: HttpRequest, document_id: int) -> tuple[Any, str | None]:
    return document_party(request.user, document_id)


@login_required
def document_page(request: HttpRequest, document_id: int) -> HttpResponse:
    """/contracts/documents/<id>/: a party reads the contract, asks for a code and signs in its turn."""
    document, role = _party(request, document_id)
    if document is None or role is None:
        raise Http404("没有这份合同，或您不是合同当事人 / no such contract, or not a party to it")
    error, sent = None, False
    if request.method == "POST":
        try:
            if request.POST.get("action") == "code":
                otp_issue(user=_user(request), purpose=sign_purpose(document, role))
                sent = True
            else:
                document_sign(actor=_user(request), document=document, role=role, code=request.POST.get("code", ""))
                return redirect("contract-document", document_id=document.pk)
        except DomainError as exc:
            error = exc
        document.refresh_from_db()
    return render(
        request,
        "contracts/sign.html",
        {
            "document": document,
            "role": role,
            "my_turn": document.status == role and document.contract.status == VersionStatus.PENDING,
            "signable": document.contract.status == VersionStatus.PENDING,
            "signatures": document.signatures.select_related("signer").order_by("signed_at"),
            "error": error,
            "sent": sent,
        },
    )


def document_pdf(request: HttpRequest, document_id: int) -> HttpResponse:
    document, role = _party(request, document_id)
    if document is None or role is None:
        raise Http404("没有这份合同 / no such contract")
    resp = HttpResponse(signed_pdf(document), content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="{document.contract.cbhtbm}.pdf"'
    return resp


@login_required
def prepare_page(request: HttpRequest, cbhtbm: str) -> HttpResponse:
    """/contracts/<code>/prepare/: the issuer's officer checks a household member's identity in person and
    generates the contract document for signing."""
    contract = issuer_contract(request.user, cbhtbm)
    if contract is None:
        raise Http404("没有这份合同，或不在您的发包方 / no such contract, or not of your issuer")
    household = contract.contractor
    documents = (
        ContractDocument.objects.filter(contract__cbhtbm=contract.cbhtbm)
        .select_related("contract")
        .annotate(filed=Exists(RegisterEntry.objects.filter(document=OuterRef("pk"))))
    )
    draft = Contract.objects.filter(cbhtbm=contract.cbhtbm, status=VersionStatus.PENDING).first()
    accounts = [
        o.user
        for o in Office.objects.filter(role=Role.FARMER, contractor_code=household.cbfbm, active=True).select_related(
            "user"
        )
    ]
    error = None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "identity":
                person = next((u for u in accounts if str(u.pk) == request.POST.get("person")), None)
                if person is None:
                    raise DomainError("请选择本户的用户账号", "choose the household member's account")
                signer_identity_verify(
                    actor=_user(request),
                    person=person,
                    household=household,
                    name=request.POST.get("name", ""),
                    id_number=request.POST.get("id_number", ""),
                    attested=request.POST.get("attested") == "1",
                    id_card_images=request.FILES.getlist("id_card"),
                )
                return redirect("contract-prepare", cbhtbm=cbhtbm)
            if request.POST.get("action") == "withdraw":
                if draft is None:
                    raise DomainError("没有待备案的草稿", "no draft awaiting filing", code="not_found")
                contract_draft_withdraw(actor=_user(request), draft=draft, reason=request.POST.get("reason", ""))
                return redirect("contract-prepare", cbhtbm=cbhtbm)
            if request.POST.get("action") == "scan":
                target = documents.filter(pk=request.POST.get("document") or 0).first()
                if target is None:
                    raise DomainError("没有这份合同文件", "no such document", code="not_found")
                scan_attach(actor=_user(request), document=target, files=request.FILES.getlist("scan"))
                return redirect("contract-prepare", cbhtbm=cbhtbm)
            draft = contract_draft(
                actor=_user(request),
                contract=contract,
                term_start=_date(request.POST.get("term_start")),
                term_end=_date(request.POST.get("term_end")),
            )
            document = document_generate(actor=_user(request), contract=draft)
            return redirect("contract-document", document_id=document.pk)
        except DomainError as exc:
            error = exc
    return render(
        request,
        "contracts/prepare.html",
        {
            "contract": contract,
            "household": household,
            "members": household.members.order_by("relation", "name"),
            "accounts": accounts,
            "checks": IdentityCheck.objects.filter(household_code=household.cbfbm).select_related(
                "user", "attested_by"
            ),
            "documents": documents.order_by("-created_at"),
            "draft": draft,
            "error": error,
        },
    )


@login_required
def issuer_contracts_page(request: HttpRequest) -> HttpResponse:
    """/contracts/: the issuer officer's current contracts (search by household name or code), each linked
    to its signing preparation."""
    q = (request.GET.get("q") or "").strip()
    rows = Contract.objects.filter(scope_q(request.user, "cbhtbm", "contracts.sign_issuer"), valid_to__isnull=True)
    if q:
        rows = rows.filter(Q(contractor__name__contains=q) | Q(cbhtbm__startswith=q))
    return render(
        request,
        "contracts/issuer_list.html",
        {"rows": rows.select_related("contractor").order_by("cbhtbm")[:200], "q": q},
    )


@login_required
def filing_page(request: HttpRequest) -> HttpResponse:
    """/contracts/filing/: the county files the signed drafts of its region (备案) and sees recent filings."""
    if not scope_prefixes(request.user, "contracts.file"):
        raise PermissionDenied("只有县农业农村局可以备案 / filing is for the county bureau")
    error, filed = None, None
    if request.method == "POST":
        document = ContractDocument.objects.filter(pk=request.POST.get("document") or 0).first()
        try:
            if document is None:
                raise DomainError("没有这份合同文件", "no such document", code="not_found")
            entry = contract_file(actor=_user(request), document=document)
            return redirect(f"{reverse('contract-filing')}?filed={entry.pk}")
        except DomainError as exc:
            error = exc
    if request.GET.get("filed"):
        filed = (
            RegisterEntry.objects.filter(scope_q(request.user, "cbjyqzbm", "contracts.file"), pk=request.GET["filed"])
            .select_related("contract", "previous")
            .first()
        )
    awaiting = (
        ContractDocument.objects.filter(
            scope_q(request.user, "contract__cbhtbm", "contracts.file"),
            contract__status=VersionStatus.PENDING,
            status__in=[ContractDocument.Status.SIGNED, ContractDocument.Status.SIGNED_ON_PAPER],
        )
        .select_related("contract__contractor")
        .order_by("contract__cbhtbm", "-created_at")
    )
    entries = RegisterEntry.objects.filter(scope_q(request.user, "cbjyqzbm", "contracts.file")).order_by("-djsj")[:50]
    return render(
        request,
        "contracts/filing.html",
        {"awaiting": awaiting[:200], "entries": entries, "filed": filed, "error": error},
    )


@login_required
def filing_pdf(request: HttpRequest, document_id: int) -> HttpResponse:
    """The signed (or generated, for the paper path) PDF, for the county officer who files it."""
    document = ContractDocument.objects.filter(
        scope_q(request.user, "contract__cbhtbm", "contracts.file"), pk=document_id
    ).first()
    if document is None:
        raise Http404("没有这份合同 / no such contract")
    resp = HttpResponse(signed_pdf(document), content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="{document.contract.cbhtbm}.pdf"'
    return resp


@login_required
def recall_page(request: HttpRequest) -> HttpResponse:
    """/certificates/recall/: old certificates to recover from households and destroy, in the user's
    region; recording a recovery."""
    scope = scope_q(request.user, "cbjyqzbm", "certificates.recall")
    if not scope_prefixes(request.user, "certificates.recall"):
        raise PermissionDenied("无权管理权证收回 / not allowed to manage certificate recall")
    error = None
    if request.method == "POST":
        cert = Certificate.objects.filter(scope, pk=request.POST.get("certificate") or 0).first()
        try:
            if cert is None:
                raise DomainError("没有这本权证", "no such certificate", code="not_found")
            certificate_recover(
                actor=_user(request),
                certificate=cert,
                recovered_on=_date(request.POST.get("recovered_on")) or timezone.localdate(),
                destroyed=request.POST.get("destroyed") == "1",
            )
            return redirect("certificate-recall")
        except DomainError as exc:
            error = exc
    rows = (
        Certificate.objects.filter(scope)
        .filter(Q(status=CertificateStatus.RECALL) | Q(recovered_on__isnull=False))
        .select_related("contract__contractor")
        .order_by("-status", "-recall_since")[:300]
    )
    return render(request, "contracts/recall.html", {"rows": rows, "error": error, "today": timezone.localdate()})


LOGIN_PURPOSE = "登录 Log in"
# The first step is throttled by address and by phone (an hour's window), so that ID numbers cannot be tried
# against a phone number by the thousand; codes themselves are limited by accounts.identity.
LOGIN_TRIES_PER_ADDRESS, LOGIN_TRIES_PER_PHONE, LOGIN_WINDOW_S = 20, 5, 3600


def phone_login_page(request: HttpRequest) -> HttpResponse:
    """/my/login/: a farmer logs in with the phone number on their account and their ID number, then the
    one-time code sent to that phone. The first step answers the same whether or not the two match an
    account (a code is sent only when they do), so it tells nothing about whose ID number goes with a phone."""
    error, step = None, "start"
    if request.method == "POST":
        try:
            if request.POST.get("action") == "code":
                id_number = validate_resident_id(request.POST.get("id_number", ""))  # a typing mistake is said
                phone = request.POST.get("phone", "").strip()[:20]
                address = request.META.get("REMOTE_ADDR", "")
                if not (
                    allow("phone-login-address", address, limit=LOGIN_TRIES_PER_ADDRESS, window_seconds=LOGIN_WINDOW_S)
                    and allow("phone-login-phone", phone, limit=LOGIN_TRIES_PER_PHONE, window_seconds=LOGIN_WINDOW_S)
                ):
                    raise IdentityError("尝试过于频繁，请一小时后再试", "too many tries: try again in an hour")
                user = farmer_for_phone_login(phone=phone, id_number=id_number)
                if user is not None:
                    try:
                        otp_issue(user=user, purpose=LOGIN_PURPOSE)
                    except IdentityError:
                        pass  # too many codes or locked: answered like any other first step
                request.session["phone_login_user"] = user.pk if user is not None else 0
                step = "code"
            else:
                if "phone_login_user" not in request.session:
                    raise IdentityError("请先获取验证码", "ask for a code first")
                step = "code"
                user = User.objects.filter(pk=request.session["phone_login_user"] or 0, is_active=True).first()
                if user is None:  # no account matched: the same answer as a wrong code
                    raise IdentityError("验证码不正确", "the code is not right", code="otp_wrong")
                otp_verify(user=user, purpose=LOGIN_PURPOSE, code=request.POST.get("code", ""))
                request.session.pop("phone_login_user", None)
                request.tianjie_login_method = "phone_otp"  # type: ignore[attr-defined]  # for the login audit
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return redirect("my-contracts")
        except DomainError as exc:
            error = exc
    return render(request, "contracts/phone_login.html", {"error": error, "step": step})


@login_required
def my_parcels(request: HttpRequest) -> HttpResponse:
    """/my/contracts/parcels.geojson: the household's parcels for the farmer's map."""
    return JsonResponse(my_parcels_geojson(request.user), json_dumps_params={"ensure_ascii": False})
