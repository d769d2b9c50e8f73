from django.urls import path

from tongban.identity import views

app_name = "identity"
urlpatterns = [
    path("sign-in/", views.sign_in, name="sign_in"),
]
