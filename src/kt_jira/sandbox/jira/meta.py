"""Site metadata endpoints of the simulated Jira: myself, fields, create metadata,
priorities, resolutions, projects and status categories. Written in Cloud's v3 shape; a Data
Center site rewrites the answer into v2 (``jira_dc.to_v2``) and pages createmeta as ``values``.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from kt_jira.sandbox.jira.call import Handler, RestCall, errors, page
from kt_jira.sandbox.jira.site import (
    COMPONENTS,
    DEFAULT_PRIORITY_ID,
    ISSUE_TYPES,
    PRIORITIES,
    REQUIRED_ON_CREATE,
    RESOLUTIONS,
)
from kt_jira.sandbox.jira.views import issue_type_json, named_json, project_json, user_json
from kt_jira.sandbox.jira.workflow import CATEGORIES

JsonDict = dict[str, Any]
API = "/rest/api/3"


async def myself(call: RestCall) -> Response:
    user = user_json(call.state.bot, call.base) or {}
    return JSONResponse({**user, "locale": "en_US", "groups": {"size": 1, "items": []}})


async def server_info(call: RestCall) -> Response:
    if call.state.flavor == "datacenter":
        info = {"version": "10.3.6", "versionNumbers": [10, 3, 6], "deploymentType": "Server"}
    else:
        info = {"version": "1001.0.0-SNAPSHOT", "deploymentType": "Cloud"}
    return JSONResponse({"baseUrl": call.base, **info})


async def fields(call: RestCall) -> Response:
    return JSONResponse([f.details() for f in call.state.site.fields])


async def createmeta_types(call: RestCall) -> Response:
    project = call.state.site.project(call.param("projectIdOrKey"))
    if project is None:
        return errors(404, f"No project could be found with key '{call.param('projectIdOrKey')}'.")
    items = [
        {**issue_type_json(t, call.base), "untranslatedName": t.name, "description": t.description}
        for t in ISSUE_TYPES
        if t.id in project.issue_type_ids
    ]
    return page(call, items, _meta_key(call, "issueTypes"))


def _meta_key(call: RestCall, cloud: str) -> str:
    """Cloud pages createmeta as ``issueTypes``/``fields``; Data Center as ``values``."""
    return "values" if call.state.flavor == "datacenter" else cloud


async def createmeta_fields(call: RestCall) -> Response:
    project = call.state.site.project(call.param("projectIdOrKey"))
    type_id = call.param("issueTypeId")
    if project is None:
        return errors(404, f"No project could be found with key '{call.param('projectIdOrKey')}'.")
    if type_id not in project.issue_type_ids:
        return errors(404, f"The issue type with id '{type_id}' does not exist.")
    screen = project.screens[type_id]
    items: list[JsonDict] = []
    for fid in screen.fields:
        fdef = call.state.site.field(fid)
        if fdef is None:
            continue
        entry: JsonDict = {
            "required": fid in REQUIRED_ON_CREATE,
            "schema": fdef.schema(),
            "name": fdef.name,
            "fieldId": fdef.id,
            "hasDefaultValue": fid in ("priority", "reporter"),
            "operations": ["add", "set", "remove"] if fdef.schema_type == "array" else ["set"],
        }
        if call.state.flavor == "cloud":  # DC's CreateMetaFieldBean has no ``key``
            entry["key"] = fdef.id
        if fid == "priority":
            allowed = [p for p in PRIORITIES if p.id in screen.priority_ids]
            entry["allowedValues"] = [named_json(p, call.base, "priority") for p in allowed]
            if any(p.id == DEFAULT_PRIORITY_ID for p in allowed):
                entry["defaultValue"] = named_json(PRIORITIES[2], call.base, "priority")
        elif fid == "issuetype":
            chosen = next(t for t in ISSUE_TYPES if t.id == type_id)
            entry["allowedValues"] = [issue_type_json(chosen, call.base)]
        elif fid == "project":
            entry["allowedValues"] = [project_json(project, call.base)]
        elif fid == "components":
            entry["allowedValues"] = [named_json(c, call.base, "component") for c in COMPONENTS]
        items.append(entry)
    return page(call, items, _meta_key(call, "fields"))


async def resolutions(call: RestCall) -> Response:
    items = [named_json(r, call.base, "resolution") for r in RESOLUTIONS]
    if call.request.url.path.endswith("/search"):
        return page(call, items, "values")
    return JSONResponse(items)


async def priorities(call: RestCall) -> Response:
    return JSONResponse([named_json(p, call.base, "priority") for p in PRIORITIES])


async def get_project(call: RestCall) -> Response:
    project = call.state.site.project(call.param("projectIdOrKey"))
    if project is None:
        return errors(404, f"No project could be found with key '{call.param('projectIdOrKey')}'.")
    types = [issue_type_json(t, call.base) for t in ISSUE_TYPES if t.id in project.issue_type_ids]
    return JSONResponse({**project_json(project, call.base), "issueTypes": types})


async def status_categories(call: RestCall) -> Response:
    return JSONResponse(list(CATEGORIES.values()))


META_ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", f"{API}/myself", myself),
    ("GET", f"{API}/serverInfo", server_info),
    ("GET", f"{API}/field", fields),
    ("GET", f"{API}/issue/createmeta/{{projectIdOrKey}}/issuetypes", createmeta_types),
    (
        "GET",
        f"{API}/issue/createmeta/{{projectIdOrKey}}/issuetypes/{{issueTypeId}}",
        createmeta_fields,
    ),
    ("GET", f"{API}/resolution", resolutions),
    ("GET", f"{API}/resolution/search", resolutions),
    ("GET", f"{API}/priority", priorities),
    ("GET", f"{API}/project/{{projectIdOrKey}}", get_project),
    ("GET", f"{API}/statuscategory", status_categories),
)
