"""The inbox pages (站内信) of a signed-in account, citizen or officer."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tongban.kernel.problems import NotFound, Problem
from tongban.kernel.web import apply_problem
from tongban.notices import services


class ContactForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("Mobile number for SMS notices"), required=False, max_length=20,
                            help_text=gettext_lazy("Leave empty to receive no SMS."))
    language = forms.ChoiceField(label=gettext_lazy("Language of notices"), choices=settings.LANGUAGES)


def _page(request: HttpRequest, template: str, context: dict[str, object]) -> HttpResponse:
    # Officers read their notices inside the workbench's frame, citizens in the portal's.
    officer = getattr(request.user, "is_officer", False)
    return render(request, template, {**context, "base_template": "workbench/base.html" if officer else "base.html"})


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(services.inbox(request.user), 20).get_page(request.GET.get("page"))
    return _page(request, "notices/inbox.html", {"page": page})


@login_required
def notice(request: HttpRequest, notice_id: int) -> HttpResponse:
    try:
        opened = services.open_notice(notice_id, actor=request.user)
    except NotFound as error:
        raise Http404(error.detail) from error
    return _page(request, "notices/notice.html", {"notice": opened})


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    count = services.mark_all_read(actor=request.user)
    if count:
        messages.success(request, _("All notices are marked read."))
    return redirect("notices:inbox")


@login_required
def contact(request: HttpRequest) -> HttpResponse:
    current = services.contact_of(request.user)
    form = ContactForm(
        request.POST or None,
        initial={"phone": current.phone if current else "",
                 "language": current.language if current else settings.LANGUAGE_CODE},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.set_contact(request.user, actor=request.user, phone=form.cleaned_data["phone"],
                                 language=form.cleaned_data["language"])
        except Problem as problem:
            apply_problem(form, problem)
        else:
            messages.success(request, _("Your notice settings are saved."))
            return redirect("notices:inbox")
    return _page(request, "notices/contact.html", {"form": form, "email": getattr(request.user, "email", "")})
