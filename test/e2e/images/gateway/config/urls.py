from django.contrib import admin
from django.urls import path

from monitors import views

urlpatterns = [
    path("api/health/", views.health, name="health"),
    path("admin/", admin.site.urls),
]
