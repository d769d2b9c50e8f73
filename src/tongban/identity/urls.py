from django.urls import path

from tongban.identity import views

app_name = "identity"
urlpatterns = [
    path("sign-up/", views.sign_up, name="sign_up"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
    path("real-name/", views.real_name, name="real_name"),
    path("password/", views.change_password, name="change_password"),
]
urlpatterns += [
    path("officer/sign-in/", views.officer_sign_in, name="officer_sign_in"),
    path("officer/code/", views.officer_second_factor, name="officer_second_factor"),
]
