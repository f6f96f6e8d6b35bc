from django.contrib import admin
from django.urls import path

from core import views

urlpatterns = [
    path("api/v1/core/health/", views.health, name="health"),
    path("admin/", admin.site.urls),
]
