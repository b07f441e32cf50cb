from django.urls import path

from . import api, views

urlpatterns = [
    path("api/contracts/<str:cbhtbm>/identity/", api.IdentityApi.as_view(), name="api-contract-identity"),
    path("api/contracts/<str:cbhtbm>/document/", api.DocumentApi.as_view(), name="api-contract-document"),
    path("api/contracts/documents/<int:document_id>/code/", api.CodeApi.as_view(), name="api-document-code"),
    path("api/contracts/documents/<int:document_id>/sign/", api.SignApi.as_view(), name="api-document-sign"),
    path("api/contracts/documents/<int:document_id>/file/", api.FileApi.as_view(), name="api-document-file"),
    path("tsa/", views.timestamp_authority, name="tsa"),
    path("verify/", views.verify_page, name="verify"),
    path("my/contracts/", views.my_contracts_page, name="my-contracts"),
    path("my/login/", views.phone_login_page, name="phone-login"),
    path("my/contracts/<int:document_id>.pdf", views.my_signed_pdf, name="my-contract-pdf"),
    path("my/contracts/parcels.geojson", views.my_parcels, name="my-parcels"),
    path("contracts/filing/", views.filing_page, name="contract-filing"),
    path("contracts/filing/<int:document_id>.pdf", views.filing_pdf, name="contract-filing-pdf"),
    path("certificates/recall/", views.recall_page, name="certificate-recall"),
    path("contracts/", views.issuer_contracts_page, name="issuer-contracts"),
    path("contracts/<str:cbhtbm>/prepare/", views.prepare_page, name="contract-prepare"),
    path("contracts/documents/<int:document_id>/", views.document_page, name="contract-document"),
    path("contracts/documents/<int:document_id>.pdf", views.document_pdf, name="contract-document-pdf"),
]
