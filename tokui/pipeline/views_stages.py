"""Stage and playbook settings pages: administrators change them, heads of sales read them.

Thin: parse, call ``tokui.pipeline.stages``, render. A refused change (the last won stage, a
stage with open deals) comes back as a message on the settings page.
"""

from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tokui.core.exceptions import ApplicationError
from tokui.core.views import maps_service_errors
from tokui.pipeline import stages as svc
from tokui.pipeline.forms_stages import StageForm, StepForm
from tokui.pipeline.models import Stage
from tokui.users.models import User

NAV = {"nav_section": "pipeline", "tab": "stages"}


def _viewer(request: HttpRequest) -> User:
    return cast(User, request.user)


def _list_url(stage: Stage) -> str | None:
    """The deal list filtered to a stage (the board's part): None until it exists."""
    try:
        return reverse("pipeline:deal_list") + f"?stage={stage.pk}"
    except NoReverseMatch:
        return None


def _refusal(request: HttpRequest, exc: ApplicationError) -> None:
    if exc.status in (403, 404):
        raise exc
    messages.error(request, exc.message)


@maps_service_errors
@require_http_methods(["GET", "POST"])
def stage_settings(request: HttpRequest) -> HttpResponse:
    """Every stage with its playbook; administrators add a stage here."""
    viewer = _viewer(request)
    stages = svc.stage_settings_list(viewer=viewer)
    form = StageForm(request.POST or None, initial={"kind": "open"})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                stage = svc.stage_create(actor=viewer, data=form.service_data())
            except ApplicationError as exc:
                if exc.status == 403:
                    raise
                form.add_service_error(exc)
            else:
                messages.success(
                    request,
                    _("Stage “%(stage)s” added. Now give it its playbook.")
                    % {"stage": stage.label},
                )
                return redirect("pipeline:stage_edit", stage_id=stage.pk)
        status = 422
    for stage in stages:
        stage.list_url = _list_url(stage)  # type: ignore[attr-defined]
    return TemplateResponse(
        request,
        "pipeline/stages/index.html",
        {
            **NAV,
            "stages": stages,
            "form": form,
            "may_edit": svc.may_edit_stages(viewer),
            "add_open": request.method == "POST",
        },
        status=status,
    )


def _edit_page(
    request: HttpRequest, stage: Stage, form: StageForm, step_form: StepForm, status: int = 200
) -> TemplateResponse:
    return TemplateResponse(
        request,
        "pipeline/stages/edit.html",
        {
            **NAV,
            "stage": stage,
            "steps": list(stage.steps.order_by("position", "pk")),
            "form": form,
            "step_form": step_form,
            "may_edit": svc.may_edit_stages(_viewer(request)),
        },
        status=status,
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def stage_edit(request: HttpRequest, stage_id: int) -> HttpResponse:
    viewer = _viewer(request)
    stage = svc.stage_get(viewer=viewer, stage_id=stage_id)
    form = StageForm(request.POST or None, initial=StageForm.initial_of(stage))
    if request.method == "POST" and form.is_valid():
        try:
            svc.stage_update(
                actor=viewer,
                stage=stage,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
            )
        except ApplicationError as exc:
            if exc.status == 403:
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("pipeline:stage_settings")
    status = 422 if form.is_bound and form.errors else 200
    return _edit_page(request, stage, form, StepForm(), status)


@maps_service_errors
@require_POST
def stage_move(request: HttpRequest, stage_id: int) -> HttpResponse:
    stage = svc.stage_get(viewer=_viewer(request), stage_id=stage_id)
    try:
        svc.stage_move(actor=_viewer(request), stage=stage, up=request.POST.get("up") == "1")
    except ApplicationError as exc:
        _refusal(request, exc)
    return redirect(reverse("pipeline:stage_settings") + f"#stage-{stage.pk}")


@maps_service_errors
@require_POST
def stage_active(request: HttpRequest, stage_id: int) -> HttpResponse:
    stage = svc.stage_get(viewer=_viewer(request), stage_id=stage_id)
    active = request.POST.get("active") == "1"
    try:
        svc.stage_set_active(actor=_viewer(request), stage=stage, active=active)
    except ApplicationError as exc:
        _refusal(request, exc)
    else:
        messages.success(
            request,
            (_("“%(stage)s” is in use again.") if active else _("“%(stage)s” retired."))
            % {"stage": stage.label},
        )
    return redirect(reverse("pipeline:stage_settings") + f"#stage-{stage.pk}")


@maps_service_errors
@require_POST
def step_add(request: HttpRequest, stage_id: int) -> HttpResponse:
    viewer = _viewer(request)
    stage = svc.stage_get(viewer=viewer, stage_id=stage_id)
    step_form = StepForm(request.POST)
    if step_form.is_valid():
        try:
            svc.step_add(actor=viewer, stage=stage, data=step_form.cleaned_data)
        except ApplicationError as exc:
            if exc.status == 403:
                raise
            step_form.add_service_error(exc)
        else:
            messages.success(request, _("Step added."))
            return redirect("pipeline:stage_edit", stage_id=stage.pk)
    form = StageForm(initial=StageForm.initial_of(stage))
    return _edit_page(request, stage, form, step_form, 422)


@maps_service_errors
@require_http_methods(["GET", "POST"])
def step_edit(request: HttpRequest, step_id: int) -> HttpResponse:
    viewer = _viewer(request)
    step = svc.step_get(viewer=viewer, step_id=step_id)
    form = StepForm(request.POST or None, initial=StepForm.initial_of(step))
    if request.method == "POST" and form.is_valid():
        try:
            svc.step_update(actor=viewer, step=step, data=form.cleaned_data)
        except ApplicationError as exc:
            if exc.status == 403:
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, _("Step saved."))
            return redirect("pipeline:stage_edit", stage_id=step.stage_id)
    context: dict[str, Any] = {
        **NAV,
        "step": step,
        "stage": step.stage,
        "form": form,
        "may_edit": svc.may_edit_stages(viewer),
    }
    status = 422 if form.is_bound and form.errors else 200
    return TemplateResponse(request, "pipeline/stages/step.html", context, status=status)


@maps_service_errors
@require_POST
def step_move(request: HttpRequest, step_id: int) -> HttpResponse:
    step = svc.step_get(viewer=_viewer(request), step_id=step_id)
    try:
        svc.step_move(actor=_viewer(request), step=step, up=request.POST.get("up") == "1")
    except ApplicationError as exc:
        _refusal(request, exc)
    return redirect("pipeline:stage_edit", stage_id=step.stage_id)


@maps_service_errors
@require_POST
def step_delete(request: HttpRequest, step_id: int) -> HttpResponse:
    step = svc.step_get(viewer=_viewer(request), step_id=step_id)
    try:
        svc.step_remove(actor=_viewer(request), step=step)
    except ApplicationError as exc:
        _refusal(request, exc)
    else:
        messages.success(request, _("Step removed."))
    return redirect("pipeline:stage_edit", stage_id=step.stage_id)
