from django.urls import path

from . import views

urlpatterns = [
    path("tsa/", views.timestamp_authority, name="tsa"),
    path("verify/", views.verify_page, name="verify"),
]
