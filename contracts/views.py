"""The platform's RFC 3161 timestamp service over HTTP (POST application/timestamp-query)."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .pdfsign import tsa_respond

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
    from django.shortcuts import render

    from .pdfsign import verify_pdf

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


def my_contracts_page(request: HttpRequest) -> HttpResponse:
    """/my/contracts/: a farmer's own household: contracts, parcels, certificate status, the signed PDF."""
    from django.contrib.auth.views import redirect_to_login
    from django.shortcuts import render

    from .selectors import household_codes, my_contracts

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return render(
        request,
        "contracts/mine.html",
        {"rows": my_contracts(request.user), "is_farmer": bool(household_codes(request.user))},
    )


def my_signed_pdf(request: HttpRequest, document_id: int) -> HttpResponse:
    from django.http import Http404

    from .selectors import own_signed_document
    from .signing import signed_pdf

    document = own_signed_document(request.user, document_id) if request.user.is_authenticated else None
    if document is None:
        raise Http404("没有这份合同 / no such contract")
    resp = HttpResponse(signed_pdf(document), content_type="application/pdf")
    resp["Content-Disposition"] = f'attachment; filename="{document.contract.cbhtbm}.pdf"'
    return resp


def _party(request: HttpRequest, document_id: int) -> tuple[Any, str | None]:
    """The document if the user is one of its parties, and the role they sign in (None: not a party)."""
    from accounts.scoping import can

    from .models import ContractDocument
    from .selectors import household_codes

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


def document_page(request: HttpRequest, document_id: int) -> HttpResponse:
    """/contracts/documents/<id>/: a party reads the contract, asks for a code and signs in its turn."""
    from django.contrib.auth.views import redirect_to_login
    from django.http import Http404
    from django.shortcuts import redirect, render

    from accounts.identity import otp_issue
    from spatial.errors import DomainError

    from .signing import document_sign, sign_purpose

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    document, role = _party(request, document_id)
    if document is None or role is None:
        raise Http404("没有这份合同，或您不是合同当事人 / no such contract, or not a party to it")
    error, sent = None, False
    if request.method == "POST":
        try:
            if request.POST.get("action") == "code":
                otp_issue(user=request.user, purpose=sign_purpose(document, role))
                sent = True
            else:
                document_sign(actor=request.user, document=document, role=role, code=request.POST.get("code", ""))
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
    from django.http import Http404

    from .signing import signed_pdf

    document, role = _party(request, document_id)
    if document is None or role is None:
        raise Http404("没有这份合同 / no such contract")
    resp = HttpResponse(signed_pdf(document), content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="{document.contract.cbhtbm}.pdf"'
    return resp


def prepare_page(request: HttpRequest, cbhtbm: str) -> HttpResponse:
    """/contracts/<code>/prepare/: the issuer's officer checks a household member's identity in person and
    generates the contract document for signing."""
    from django.contrib.auth.views import redirect_to_login
    from django.http import Http404
    from django.shortcuts import redirect, render

    from accounts.models import IdentityCheck, Office, Role
    from accounts.scoping import can
    from spatial.errors import DomainError

    from .models import Contract
    from .signing import document_generate, signer_identity_verify

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
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
                    actor=request.user,  # type: ignore[arg-type]
                    person=person,
                    household=household,
                    name=request.POST.get("name", ""),
                    id_number=request.POST.get("id_number", ""),
                    attested=request.POST.get("attested") == "1",
                    id_card_images=request.FILES.getlist("id_card"),
                )
                return redirect("contract-prepare", cbhtbm=cbhtbm)
            if request.POST.get("action") == "scan":
                from .paper import scan_attach

                target = contract.documents.filter(pk=request.POST.get("document") or 0).first()
                if target is None:
                    raise DomainError("没有这份合同文件", "no such document", code="not_found")
                scan_attach(actor=request.user, document=target, files=request.FILES.getlist("scan"))
                return redirect("contract-prepare", cbhtbm=cbhtbm)
            document = document_generate(actor=request.user, contract=contract)  # type: ignore[arg-type]
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


def issuer_contracts_page(request: HttpRequest) -> HttpResponse:
    """/contracts/: the issuer officer's current contracts (search by household name or code), each linked
    to its signing preparation."""
    from django.contrib.auth.views import redirect_to_login
    from django.db.models import Q
    from django.shortcuts import render

    from accounts.scoping import scope_q

    from .models import Contract

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    q = (request.GET.get("q") or "").strip()
    rows = Contract.objects.filter(scope_q(request.user, "cbhtbm", "contracts.sign_issuer"), valid_to__isnull=True)
    if q:
        rows = rows.filter(Q(contractor__name__contains=q) | Q(cbhtbm__startswith=q))
    return render(
        request,
        "contracts/issuer_list.html",
        {"rows": rows.select_related("contractor").order_by("cbhtbm")[:200], "q": q},
    )
