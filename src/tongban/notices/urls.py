from django.urls import path

from tongban.notices import views

app_name = "notices"
urlpatterns = [
    path("me/inbox/", views.inbox, name="inbox"),
    path("me/inbox/read-all/", views.read_all, name="read_all"),
    path("me/inbox/settings/", views.contact, name="contact"),
    path("me/inbox/<int:notice_id>/", views.notice, name="notice"),
]
