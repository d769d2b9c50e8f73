from django.urls import path

from tongban.workbench import views

app_name = "workbench"
urlpatterns = [
    path("", views.home, name="home"),
    path("catalog/", views.catalog_list, name="catalog"),
    path("catalog/<slug:code>/", views.catalog_detail, name="catalog_detail"),
    path("requests/", views.requests_list, name="requests"),
    path("requests/<int:request_id>/approve/", views.approve_request, name="approve_request"),
    path("requests/<int:request_id>/refuse/", views.refuse_request, name="refuse_request"),
    path("grants/", views.grants_list, name="grants"),
    path("grants/<int:grant_id>/revoke/", views.revoke_grant, name="revoke_grant"),
    path("imports/", views.imports, name="imports"),
    path("imports/<int:import_id>/", views.import_detail, name="import_detail"),
]
