"""The task board, tasks' web pages: list with filters, sort and pages; create, edit, complete and delete.

Staff only (owner, admin, staff): a customer gets the 403 page, because this is the
shop's internal board. The tasks service still checks every rule itself (another
shop's task is a 404 there, and so here). The web app's assembly
(``folio.entrypoints.web``) registers ``blueprint`` at ``/tasks``; the templates are
this package's ``templates/board``.
"""

# mypy: disallow-subclassing-any=False
# (Flask-WTF and WTForms ship no type information, so their classes are Any to mypy.)

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pydantic
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm  # type: ignore[import-untyped]  # ships no py.typed
from wtforms import (  # type: ignore[import-untyped]  # ships no py.typed
    DateField,
    HiddenField,
    IntegerField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional  # type: ignore[import-untyped]  # as above

from folio.core.errors import ConflictError, PermissionDeniedError, QuotaExceededError, ValidationFailedError
from folio.core.security import Principal
from folio.core.settings import Settings
from folio.identity import api as identity
from folio.tasks import api as tasks
from folio.webkit.access import safe_next, signed_in, staff_required
from folio.webkit.bridge import LoopPortal, portal
from folio.webkit.forms import (
    ActionForm,
    Choices,
    choices,
    flash_errors,
    form_status,
    service_errors,
    show_errors,
    validation_errors,
)
from folio.webkit.paging import page_links

__all__ = ["PER_PAGE", "blueprint"]

blueprint = Blueprint("board", __name__, template_folder="templates")

PER_PAGE = 10
"""Tasks per board page."""

# --- forms -------------------------------------------------------------------------------------

STATUS_CHOICES = [("todo", "To do"), ("in_progress", "In progress"), ("done", "Done")]
PRIORITY_CHOICES = [("low", "Low"), ("normal", "Normal"), ("high", "High"), ("urgent", "Urgent")]
SORT_CHOICES = [
    ("-created_at", "Newest first"),
    ("created_at", "Oldest first"),
    ("due_date", "Due soonest"),
    ("-due_date", "Due latest"),
    ("-priority", "Most urgent"),
    ("priority", "Least urgent"),
    ("title", "Title A-Z"),
    ("-title", "Title Z-A"),
]


class TaskForm(FlaskForm):
    """Create or edit a task; ``assignee_id`` choices are the shop's members (set per request)."""

    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=10_000)])
    status = SelectField("Status", choices=choices(*STATUS_CHOICES), default="todo")
    priority = SelectField("Priority", choices=choices(*PRIORITY_CHOICES), default="normal")
    due_date = DateField("Due", validators=[Optional()])
    tags = StringField(
        "Tags", validators=[Optional(), Length(max=900)], description="Comma-separated, e.g. orders, urgent."
    )
    assignee_id = SelectField("Assignee", choices=choices(("", "Nobody")), default="", validate_choice=True)
    version = HiddenField()


class FilterForm(FlaskForm):
    """The board's filters and sort, read from the query string (a GET form: no CSRF)."""

    class Meta:
        """GET forms change nothing, so they carry no CSRF token."""

        csrf = False

    q = SearchField("Search", validators=[Optional(), Length(max=200)])
    status = SelectField("Status", choices=choices(("", "Any status"), *STATUS_CHOICES), default="")
    priority = SelectField("Priority", choices=choices(("", "Any priority"), *PRIORITY_CHOICES), default="")
    tag = StringField("Tag", validators=[Optional(), Length(max=40)])
    assignee = SelectField("Assignee", choices=choices(("", "Anyone")), default="", validate_choice=False)
    sort = SelectField("Sort", choices=choices(*SORT_CHOICES), default="-created_at")
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1)], default=1)


@blueprint.context_processor
def _board_context() -> dict[str, object]:
    """The status names the board's badges show."""
    return {"status_labels": dict(STATUS_CHOICES)}


# --- the board ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Board:
    """What the board page shows: one page of tasks and the counts per status."""

    page: tasks.TaskPage
    counts: dict[str, int]


def _members(principal: Principal) -> list[identity.MemberRead]:
    """The shop's members, for assignee names and choices (empty if the role may not list them)."""
    here = portal()
    try:
        return here.call(identity.list_members, here.database, principal=principal)
    except PermissionDeniedError:
        return []


def _unit_of_work(here: LoopPortal) -> tasks.TaskUnitOfWork:
    """The platform's tasks unit of work, which the service calls below run on."""
    return here.platform.get(tasks.TASK_UNIT_OF_WORK)


async def _load_board(
    uow: tasks.TaskUnitOfWork,
    *,
    settings: Settings,
    principal: Principal,
    filters: tasks.TaskFilter,
    sort: tasks.TaskSort,
    page: int,
) -> Board:
    """One page of the board and, for the status tabs, the matches per status (one portal hop)."""
    listed = await tasks.list_tasks(
        uow, settings=settings, principal=principal, filters=filters, sort=sort, page=page, per_page=PER_PAGE
    )
    counts: dict[str, int] = {}
    for status in tasks.TaskStatus:
        only = filters.model_copy(update={"status": status})
        counted = await tasks.list_tasks(
            uow, settings=settings, principal=principal, filters=only, sort=sort, page=1, per_page=1
        )
        counts[status.value] = counted.total
    return Board(page=listed, counts=counts)


@blueprint.get("")
@staff_required
def index() -> ResponseReturnValue:
    """The board: filter by status, priority, tag, text and assignee; sort; page through."""
    principal = signed_in()
    form = FilterForm(formdata=request.args)
    members = _members(principal)
    form.assignee.choices = [
        ("", "Anyone"),
        ("me", "Me"),
        *[(str(m.user_id), m.display_name) for m in members],
    ]
    if not form.validate():
        for field, errors in form.errors.items():
            flash(f"Filter {field}: {'; '.join(errors)}", "warning")
            form[field].data = form[field].default
    try:
        filters = tasks.TaskFilter(
            status=form.status.data or None,
            priority=form.priority.data or None,
            tag=form.tag.data or None,
            q=form.q.data or None,
            assignee_id=form.assignee.data or None,
        )
    except pydantic.ValidationError:
        flash("Some filters were not understood and were ignored.", "warning")
        filters = tasks.TaskFilter()
    sort = tasks.TaskSort(form.sort.data or tasks.TaskSort.CREATED_AT_DESC)
    here = portal()
    board = here.call(
        _load_board,
        _unit_of_work(here),
        settings=here.settings,
        principal=principal,
        filters=filters,
        sort=sort,
        page=form.page.data or 1,
    )
    return render_template(
        "board/index.html",
        form=form,
        board=board,
        names={m.user_id: m.display_name for m in members},
        pages=page_links(board.page.page, board.page.pages),
        page_url=_page_url,
        action=ActionForm(),
        back=request.script_root + request.full_path.rstrip("?"),
    )


@blueprint.route("/new", methods=["GET", "POST"])
@staff_required
def new() -> ResponseReturnValue:
    """Create a task."""
    principal = signed_in()
    form = TaskForm()
    form.assignee_id.choices = _assignee_choices(principal)
    if form.validate_on_submit():
        here = portal()
        try:
            data = tasks.TaskCreate(**_task_fields(form))
            created = here.call(tasks.create_task, _unit_of_work(here), principal=principal, data=data)
        except pydantic.ValidationError as exc:
            flash_errors(show_errors(form, validation_errors(exc)))
        except ValidationFailedError as exc:
            flash_errors(show_errors(form, service_errors(exc)))
        except QuotaExceededError as exc:
            flash(f"The shop has reached its task quota: {exc.detail or exc.title}.", "error")
        else:
            flash(f"Created “{created.title}”.", "success")
            return redirect(url_for("board.index"))
    return render_template("board/form.html", form=form, task=None), form_status()


@blueprint.route("/<uuid:task_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(task_id: uuid.UUID) -> ResponseReturnValue:
    """Edit a task; a change someone saved meanwhile is reported, not overwritten."""
    principal = signed_in()
    here = portal()
    task = here.call(tasks.get_task, _unit_of_work(here), principal=principal, task_id=task_id)
    form = TaskForm(obj=_FormValues(task))
    form.assignee_id.choices = _assignee_choices(principal)
    if form.validate_on_submit():
        try:
            data = tasks.TaskUpdate(**_task_fields(form), version=int(form.version.data or task.version))
            updated = here.call(
                tasks.update_task, _unit_of_work(here), principal=principal, task_id=task_id, data=data
            )
        except pydantic.ValidationError as exc:
            flash_errors(show_errors(form, validation_errors(exc)))
        except ValidationFailedError as exc:
            flash_errors(show_errors(form, service_errors(exc)))
        except ConflictError:
            flash(
                "Someone else changed this task while you were editing it. "
                "This is the current version: make your change again.",
                "warning",
            )
            return redirect(url_for("board.edit", task_id=task_id))
        else:
            flash(f"Saved “{updated.title}”.", "success")
            return redirect(url_for("board.index"))
    return render_template("board/form.html", form=form, task=task, action=ActionForm()), form_status()


@blueprint.post("/<uuid:task_id>/complete")
@staff_required
def complete(task_id: uuid.UUID) -> ResponseReturnValue:
    """Mark a task done."""
    principal = signed_in()
    form = ActionForm()
    if form.validate_on_submit():
        here = portal()
        done = here.call(
            tasks.update_task,
            _unit_of_work(here),
            principal=principal,
            task_id=task_id,
            data=tasks.TaskUpdate(status=tasks.TaskStatus.DONE),
        )
        flash(f"Marked “{done.title}” done.", "success")
    return redirect(safe_next(request.form.get("back"), url_for("board.index")))


@blueprint.route("/<uuid:task_id>/delete", methods=["GET", "POST"])
@staff_required
def delete(task_id: uuid.UUID) -> ResponseReturnValue:
    """Confirm (GET) and delete (POST) a task."""
    principal = signed_in()
    here = portal()
    task = here.call(tasks.get_task, _unit_of_work(here), principal=principal, task_id=task_id)
    form = ActionForm()
    if form.validate_on_submit():
        here.call(tasks.delete_task, _unit_of_work(here), principal=principal, task_id=task_id)
        flash(f"Deleted “{task.title}”.", "success")
        return redirect(safe_next(request.form.get("back"), url_for("board.index")))
    return render_template("board/delete.html", task=task, form=form)


def _assignee_choices(principal: Principal) -> Choices:
    members = _members(principal)
    if not members and principal.user_id is not None:
        return choices(("", "Nobody"), (str(principal.user_id), "Me"))
    return choices(("", "Nobody"), *[(str(m.user_id), f"{m.display_name} ({m.role.value})") for m in members])


def _task_fields(form: TaskForm) -> dict[str, Any]:
    tags = [tag for tag in (form.tags.data or "").split(",") if tag.strip()]
    return {
        "title": form.title.data,
        "notes": form.notes.data or "",
        "status": form.status.data,
        "priority": form.priority.data,
        "due_date": form.due_date.data,
        "tags": tags,
        "assignee_id": uuid.UUID(form.assignee_id.data) if form.assignee_id.data else None,
    }


class _FormValues:
    """A task as the edit form's ``obj``: tags joined, ids as strings."""

    def __init__(self, task: tasks.TaskRead) -> None:
        self.title = task.title
        self.notes = task.notes
        self.status = task.status.value
        self.priority = task.priority.value
        self.due_date = task.due_date
        self.tags = ", ".join(task.tags)
        self.assignee_id = str(task.assignee_id) if task.assignee_id else ""
        self.version = str(task.version)


def _page_url(page: int) -> str:
    """The board's URL with the current filters and another page number."""
    args: dict[str, Any] = {key: value for key, value in request.args.items() if key != "page" and value}
    return url_for("board.index", **args, page=page)
