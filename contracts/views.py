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
