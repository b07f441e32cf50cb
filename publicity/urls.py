from django.urls import path

from . import pages

urlpatterns = [path("manage/calendar/", pages.calendar_page, name="calendar")]
