"""The platform's RFC 3161 timestamp service, the public signature check, and the signing pages: the
issuer officer's contract list and preparation, the parties' signing page, the farmer's own contracts."""

from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.identity import otp_issue
from accounts.models import IdentityCheck, Office, Role, User
from accounts.scoping import can, scope_q
from spatial.errors import DomainError

from .models import Contract, ContractDocument
from .paper import scan_attach
from .pdfsign import tsa_respond, verify_pdf
from .selectors import household_codes, my_contracts, own_signed_document
from .signing import document_generate, document_sign, sign_purpose, signed_pdf, signer_identity_verify


def _user(request: HttpRequest) -> User:
    """The logged-in user (the views that call this are @login_required)."""
    return cast(User, request.user)


MAX_REQUEST_BYTES = 16 * 1024  # a timestamp request is a few hundred bytes


@csrf_exempt  # a protocol endpoint for signing software, not a form; it changes nothing
@require_POST
def timestamp_authority(request: HttpRequest) -> HttpResponse:
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
        {"rows": my_contracts(request.user), "is_farmer": bool(household_codes(request.user))},
    )


def my_signed_pdf(request: HttpRequest, document_id: int) -> HttpResponse:
    document = own_signed_document(request.user, document_id) if request.user.is_authenticated else None
    if document is None:
        raise Http404("没有这份合同 / no such contract")
    resp = HttpResponse(signed_pdf(document), content_type="application/pdf")
    resp["Content-Disposition"] = f'attachment; filename="{document.contract.cbhtbm}.pdf"'
    return resp


def _party(request: HttpRequest, document_id: int) -> tuple[Any, str | None]:
    """The document if the user is one of its parties, and the role they sign in (None: not a party)."""
    document = (
        ContractDocument.objects.select_related("contract__contractor", "contract__issuer")
        .filter(pk=document_id)
        .first()
    )
    if document is None or not request.user.is_authenticated:
        return None, None
    if document.contract.contractor.cbfbm in household_codes(request.user):
        return document, "contractor"
    if can(request.user, "contracts.sign_issuer", document.contract.issuer.fbfbm):
        return document, "issuer"
    return None, None


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
            "my_turn": document.status == role,
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
    contract = (
        Contract.objects.select_related("contractor", "issuer").filter(cbhtbm=cbhtbm, valid_to__isnull=True).first()
    )
    if contract is None or not can(request.user, "contracts.sign_issuer", contract.issuer.fbfbm):
        raise Http404("没有这份合同，或不在您的发包方 / no such contract, or not of your issuer")
    household = contract.contractor
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
            if request.POST.get("action") == "scan":
                target = contract.documents.filter(pk=request.POST.get("document") or 0).first()
                if target is None:
                    raise DomainError("没有这份合同文件", "no such document", code="not_found")
                scan_attach(actor=_user(request), document=target, files=request.FILES.getlist("scan"))
                return redirect("contract-prepare", cbhtbm=cbhtbm)
            document = document_generate(actor=_user(request), contract=contract)
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
            "documents": contract.documents.order_by("-created_at"),
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
