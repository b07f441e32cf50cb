from django.urls import path

from . import views

urlpatterns = [
    path("tsa/", views.timestamp_authority, name="tsa"),
    path("verify/", views.verify_page, name="verify"),
    path("my/contracts/", views.my_contracts_page, name="my-contracts"),
    path("my/contracts/<int:document_id>.pdf", views.my_signed_pdf, name="my-contract-pdf"),
    path("contracts/", views.issuer_contracts_page, name="issuer-contracts"),
    path("contracts/<str:cbhtbm>/prepare/", views.prepare_page, name="contract-prepare"),
    path("contracts/documents/<int:document_id>/", views.document_page, name="contract-document"),
    path("contracts/documents/<int:document_id>.pdf", views.document_pdf, name="contract-document-pdf"),
]
