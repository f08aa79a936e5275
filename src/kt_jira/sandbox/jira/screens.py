"""Custom fields and screens of the simulated Jira, as the admin REST endpoints show them.

``POST /field`` creates a custom field (names may repeat, as in Jira) that is on no screen; a
project's issue type screen scheme maps issue types (or ``default``) to screen schemes, whose
``create`` (else ``default``) screen is what createmeta lists; adding a field to that screen's
tab puts it in createmeta. Cloud serves all of it. Data Center has ``POST /field`` and the
screen tab calls but no scheme calls (404). Without ``admin`` every call here is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import JSONResponse, Response

from kt_jira.sandbox.jira.call import Handler, RestCall, errors, page
from kt_jira.sandbox.jira.meta import API
from kt_jira.sandbox.jira.site import CF_TYPE, TAB_NAME, Project, Screen

JsonDict = dict[str, Any]
_SEARCHERS = {  # the spec's CustomFieldDefinitionJsonBean table, for the types modelled here
    "textfield": ("textsearcher",),
    "textarea": ("textsearcher",),
    "readonlyfield": ("textsearcher",),
    "url": ("exacttextsearcher",),
    "labels": ("labelsearcher",),
}
_NAME_LIMIT = 255


def _refused(call: RestCall, what: str) -> Response | None:
    """Jira's answer to a bot without *Administer Jira*, or None for an admin."""
    if call.state.settings.admin:
        return None
    return errors(403, f"Only Jira administrators can {what}.")


def _ids(call: RestCall, name: str) -> list[str] | Response:
    """A repeatable integer query parameter (``id=1&id=2``), as strings."""
    values = call.request.query_params.getlist(name)
    if not all(value.isdigit() for value in values):
        return errors(400, f"The '{name}' parameter takes integers only.")
    return values


async def create_field(call: RestCall) -> Response:
    if not call.state.settings.admin:
        # Cloud's spec answers a missing permission with 400 here; Data Center with 403.
        status = 400 if call.state.flavor == "cloud" else 403
        return errors(status, "You do not have permission to create custom fields.")
    body = call.body if isinstance(call.body, dict) else None
    if body is None:
        return errors(400, "The request body must be a JSON object.")
    name, kind, searcher = body.get("name"), body.get("type"), body.get("searcherKey")
    if not isinstance(name, str) or not name.strip() or len(name) > _NAME_LIMIT:
        return errors(400, name=f"The field name is required (at most {_NAME_LIMIT} characters).")
    if not isinstance(kind, str) or kind.removeprefix(CF_TYPE) not in _SEARCHERS:
        return errors(400, type=f"The custom field type '{kind}' is not valid.")
    allowed = _SEARCHERS[kind.removeprefix(CF_TYPE)]
    if searcher is not None and (
        not isinstance(searcher, str) or searcher.removeprefix(CF_TYPE) not in allowed
    ):
        valid = ", ".join(CF_TYPE + s for s in allowed)
        return errors(
            400, searcherKey=f"The searcher '{searcher}' is not valid for {kind}: {valid}."
        )
    if not isinstance(body.get("description", ""), str):
        return errors(400, description="The description must be a string.")
    created = call.state.site.add_custom_field(
        name.strip(), CF_TYPE + kind.removeprefix(CF_TYPE), searchable=searcher is not None
    )
    return JSONResponse(created.details(), status_code=201)


def _classic(call: RestCall) -> list[Project]:
    """Projects with schemes: Jira lists only those of company-managed ones."""
    return [p for p in call.state.site.projects.values() if not p.team_managed]


def _listing(
    call: RestCall,
    what: str,
    param: str,
    build: Callable[[list[str]], list[JsonDict]],
    *,
    required: bool = False,
) -> Response:
    """An admin PageBean of ``build(ids)``, the ids from the repeatable ``param`` (none: all)."""
    refused = _refused(call, what)
    wanted = refused or _ids(call, param)
    if isinstance(wanted, Response):
        return wanted
    if required and not wanted:
        return errors(400, f"The '{param}' parameter is required.")
    return page(call, build(wanted), "values")


async def project_schemes(call: RestCall) -> Response:
    def build(wanted: list[str]) -> list[JsonDict]:
        return [
            {
                "issueTypeScreenScheme": {
                    "id": str(p.scheme_id),
                    "name": f"{p.key}: Issue Type Screen Scheme",
                    "description": "",
                },
                "projectIds": [p.id],
            }
            for p in _classic(call)
            if p.id in wanted
        ]

    return _listing(call, "access issue type screen schemes", "projectId", build, required=True)


async def scheme_mappings(call: RestCall) -> Response:
    def build(wanted: list[str]) -> list[JsonDict]:
        return [
            {
                "issueTypeId": type_id,
                "issueTypeScreenSchemeId": str(p.scheme_id),
                "screenSchemeId": str(scheme.id),
            }
            for p in _classic(call)
            if not wanted or str(p.scheme_id) in wanted
            for type_id, scheme in p.mapping.items()
        ]

    return _listing(call, "access issue type screen schemes", "issueTypeScreenSchemeId", build)


async def screen_schemes(call: RestCall) -> Response:
    def build(wanted: list[str]) -> list[JsonDict]:
        schemes = {s.id: s for p in _classic(call) for s in p.mapping.values()}
        return [
            {"id": s.id, "name": s.name, "description": "", "screens": dict(s.screens)}
            for s in schemes.values()
            if not wanted or str(s.id) in wanted
        ]

    return _listing(call, "access screen schemes", "id", build)


async def list_screens(call: RestCall) -> Response:
    def build(wanted: list[str]) -> list[JsonDict]:
        screens = [s for p in call.state.site.projects.values() for s in p.all_screens()]
        return [
            {"id": s.id, "name": s.name, "description": ""}
            for s in screens
            if not wanted or str(s.id) in wanted
        ]

    return _listing(call, "manage screens", "id", build)


def _screen(call: RestCall, *, tab: bool) -> Screen | Response:
    """The screen (and, with ``tab``, its one tab) the path names, or Jira's error."""
    screen_id = call.param("screenId")
    tab_id = call.param("tabId") if tab else "0"
    if not screen_id.isdigit() or not tab_id.isdigit():
        return errors(400, "The screen and tab ids must be integers.")
    screen = call.state.site.screen(screen_id)
    if screen is None:
        return errors(404, f"The screen with id '{screen_id}' does not exist.")
    if tab and tab_id != str(screen.tab_id):
        return errors(404, f"The screen tab with id '{tab_id}' does not exist.")
    return screen


async def screen_tabs(call: RestCall) -> Response:
    found = _refused(call, "manage screens") or _screen(call, tab=False)
    if isinstance(found, Response):
        return found
    return JSONResponse([{"id": found.tab_id, "name": TAB_NAME}])


async def tab_fields(call: RestCall) -> Response:
    found = _refused(call, "manage screens") or _screen(call, tab=True)
    if isinstance(found, Response):
        return found
    site = call.state.site
    on_tab = [f for fid in found.fields if (f := site.field(fid)) is not None]
    return JSONResponse([{"id": f.id, "name": f.name} for f in on_tab])


async def add_tab_field(call: RestCall) -> Response:
    found = _refused(call, "manage screens") or _screen(call, tab=True)
    if isinstance(found, Response):
        return found
    field_id = call.body.get("fieldId") if isinstance(call.body, dict) else None
    if not isinstance(field_id, str) or not field_id:
        return errors(400, fieldId="The field id is required.")
    fdef = call.state.site.field(field_id)
    if fdef is None:
        return errors(404, f"The field with id '{field_id}' does not exist.")
    if field_id in found.fields:
        return errors(400, f"Field with id '{field_id}' already exists on the screen.")
    if not fdef.orderable:
        return errors(400, f"Field with id '{field_id}' cannot be placed on a screen.")
    found.fields.append(field_id)
    return JSONResponse({"id": fdef.id, "name": fdef.name})


_TABS = f"{API}/screens/{{screenId}}/tabs"
Route = tuple[str, str, Handler]
# Both flavours (Data Center serves them under /rest/api/2).
FIELD_ROUTES: tuple[Route, ...] = (
    ("POST", f"{API}/field", create_field),
    ("GET", _TABS, screen_tabs),
    ("GET", f"{_TABS}/{{tabId}}/fields", tab_fields),
    ("POST", f"{_TABS}/{{tabId}}/fields", add_tab_field),
)
# Cloud only: Data Center has no REST call that finds a project's screens.
SCHEME_ROUTES: tuple[Route, ...] = (
    ("GET", f"{API}/issuetypescreenscheme/project", project_schemes),
    ("GET", f"{API}/issuetypescreenscheme/mapping", scheme_mappings),
    ("GET", f"{API}/screenscheme", screen_schemes),
    ("GET", f"{API}/screens", list_screens),
)
