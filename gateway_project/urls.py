from django.contrib import admin
from django.urls import path

from gateway_project import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.health, name="health"),
    path("admin/", admin.site.urls),
]
