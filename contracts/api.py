"""The contract actions of the application flow through the REST API, with the pages' services and so
their permissions: the issuer's in-person identity check of a household member, the document for the
waiting draft, a party's one-time code and signature, and the county's filing 备案.

    POST /api/contracts/<cbhtbm>/identity/                  {person, name, id_number, attested}
    POST /api/contracts/<cbhtbm>/document/                  the waiting draft's document, for signing
    POST /api/contracts/documents/<id>/code/                a one-time code to sign with (by SMS; here the inbox)
    POST /api/contracts/documents/<id>/sign/                {code}
    POST /api/contracts/documents/<id>/file/                the county files the signed document
"""

from typing import cast

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.identity import otp_issue
from accounts.models import Role, User
from accounts.scoping import can
from core.errors import NotFoundError, PermissionDeniedError
from spatial.models import VersionStatus

from .filing import contract_file
from .models import Contract, ContractDocument
from .selectors import document_party, issuer_contract
from .signing import document_generate, document_sign, sign_purpose, signer_identity_verify

DocumentOut = inline_serializer(
    "ContractDocumentOut",
    {
        "id": serializers.IntegerField(),
        "contract": serializers.CharField(help_text="CBHTBM"),
        "version": serializers.IntegerField(),
        "status": serializers.CharField(),
        "status_label": serializers.CharField(),
    },
)


def _user(request: Request) -> User:
    return cast(User, request.user)


def _document_out(document: ContractDocument) -> dict:
    return {
        "id": document.pk,
        "contract": document.contract.cbhtbm,
        "version": document.contract.version,
        "status": document.status,
        "status_label": document.get_status_display(),
    }


def _party(request: Request, document_id: int) -> tuple[ContractDocument, str]:
    document, role = document_party(request.user, document_id)
    if document is None or role is None:
        raise NotFoundError("没有这份合同，或您不是合同当事人", "no such contract, or not a party to it")
    return document, role


def _issuer_contract(request: Request, cbhtbm: str) -> Contract:
    contract = issuer_contract(request.user, cbhtbm)
    if contract is None:
        raise NotFoundError("没有这份合同，或不在您的发包方", "no such contract, or not of your issuer")
    return contract


class IdentityInput(serializers.Serializer):
    person = serializers.CharField(help_text="本户成员的用户名 / the member's account")
    name = serializers.CharField()
    id_number = serializers.CharField()
    attested = serializers.BooleanField(help_text="当面核验：持证人与身份证一致")


class IdentityApi(APIView):
    @extend_schema(
        operation_id="contracts_identity_check",
        summary="发包方当面核验签约人身份 / The issuer checks a signer's identity in person",
        request=IdentityInput,
        responses={201: inline_serializer("IdentityCheckOut", {"id": serializers.IntegerField()})},
    )
    def post(self, request: Request, cbhtbm: str) -> Response:
        contract = _issuer_contract(request, cbhtbm)
        data = IdentityInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        person = User.objects.filter(
            username=v["person"],
            offices__role=Role.FARMER,
            offices__contractor_code=contract.contractor.cbfbm,
            offices__active=True,
        ).first()
        if person is None:
            raise PermissionDeniedError("这个账号不是本户成员的", "that account is not this household's")
        check = signer_identity_verify(
            actor=_user(request),
            person=person,
            household=contract.contractor,
            name=v["name"],
            id_number=v["id_number"],
            attested=v["attested"],
        )
        return Response({"id": check.pk}, status=201)


class DocumentApi(APIView):
    @extend_schema(
        operation_id="contracts_document_generate",
        summary="为待备案的合同草稿生成待签文件 / The waiting draft's document, for signing",
        request=None,
        responses={201: DocumentOut},
    )
    def post(self, request: Request, cbhtbm: str) -> Response:
        contract = _issuer_contract(request, cbhtbm)
        draft = Contract.objects.filter(cbhtbm=contract.cbhtbm, status=VersionStatus.PENDING).first()
        if draft is None:
            raise NotFoundError("没有待备案的合同草稿", "no draft awaiting filing")
        return Response(_document_out(document_generate(actor=_user(request), contract=draft)), status=201)


class CodeApi(APIView):
    @extend_schema(
        operation_id="contracts_sign_code",
        summary="签署验证码（短信；演示环境在通知中）/ A one-time code to sign with",
        request=None,
        responses={202: inline_serializer("CodeSent", {"sent": serializers.BooleanField()})},
    )
    def post(self, request: Request, document_id: int) -> Response:
        document, role = _party(request, document_id)
        otp_issue(user=_user(request), purpose=sign_purpose(document, role))
        return Response({"sent": True}, status=202)


class SignInput(serializers.Serializer):
    code = serializers.CharField(help_text="短信验证码 / the one-time code")


class SignApi(APIView):
    @extend_schema(
        operation_id="contracts_sign",
        summary="签署（承包方或发包方，按顺序）/ Sign, in turn",
        request=SignInput,
        responses=DocumentOut,
    )
    def post(self, request: Request, document_id: int) -> Response:
        document, role = _party(request, document_id)
        data = SignInput(data=request.data)
        data.is_valid(raise_exception=True)
        code = data.validated_data["code"]
        document = document_sign(actor=_user(request), document=document, role=role, code=code)
        return Response(_document_out(document))


class FileApi(APIView):
    @extend_schema(
        operation_id="contracts_file",
        summary="县农业农村局备案 / The county files the signed contract",
        request=None,
        responses=inline_serializer(
            "FiledOut",
            {
                "contract": serializers.CharField(),
                "version": serializers.IntegerField(),
                "serial": serializers.CharField(),
            },
        ),
    )
    def post(self, request: Request, document_id: int) -> Response:
        document = ContractDocument.objects.filter(pk=document_id).first()
        if document is None or not can(request.user, "contracts.file", document.contract.cbhtbm):
            raise NotFoundError("没有这份合同文件，或不在您的范围内", "no such document, or not in your region")
        entry = contract_file(actor=_user(request), document=document)
        return Response(
            {"contract": entry.contract.cbhtbm, "version": entry.contract.version, "serial": entry.cbjyqzlsh}
        )
