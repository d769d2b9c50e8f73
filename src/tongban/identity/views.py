"""Sign-up, sign-in and account pages."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def sign_in(request: HttpRequest) -> HttpResponse:
    return render(request, "identity/sign_in.html")
