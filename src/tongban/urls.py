"""URL routes: pages, the API, the OIDC provider and the admin."""

from django.contrib import admin
from django.urls import include, path

from tongban.api import api, gateway_api

urlpatterns = [
    path("", include("tongban.portal.urls")),
    path("", include("tongban.notices.urls")),
    path("account/", include("tongban.identity.urls")),
    path("workbench/", include("tongban.workbench.urls")),
    path("api/v1/", api.urls),
    path("exchange/v1/", gateway_api.urls),
    path("", include("tongban.identity.oidc_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

handler404 = "tongban.kernel.errors.page_not_found"
handler500 = "tongban.kernel.errors.server_error"
