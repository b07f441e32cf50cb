from django.urls import path

from . import views

urlpatterns = [path("imagery/<path:path>", views.imagery, name="imagery")]
