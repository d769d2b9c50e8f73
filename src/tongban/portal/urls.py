from django.urls import path

from tongban.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("me/", views.profile, name="profile"),
    path("me/data-use/", views.data_use, name="data_use"),
    path("me/acting-for/", views.acting_for, name="acting_for"),
    path("me/delegations/", views.delegate, name="delegate"),
    path("me/delegations/<int:pk>/revoke/", views.revoke_delegation, name="revoke_delegation"),
    path("me/licences/", views.wallet, name="wallet"),
    path("me/licences/<uuid:licence_id>/", views.licence_detail, name="licence"),
    path("me/licences/<uuid:licence_id>/pdf/", views.licence_pdf, name="licence_pdf"),
    path("me/licences/<uuid:licence_id>/share/", views.share_licence, name="share_licence"),
    path("me/licences/<uuid:licence_id>/shares/<int:share_id>/withdraw/", views.withdraw_share,
         name="withdraw_share"),
    path("v/<str:token>/", views.shared_licence, name="shared_licence"),
    path("services/", views.services, name="services"),
    path("services/life-events/<slug:code>/", views.life_event, name="life_event"),
    path("services/<str:code>/", views.service_guide, name="service_guide"),
]
