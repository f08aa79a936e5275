"""A tiny fake of Jira's field and create-metadata endpoints, for metadata unit tests.

Deliberately minimal: the full simulator is ``kt_jira.sandbox``, used by integration tests.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

CF = "com.atlassian.jira.plugin.system.customfieldtypes:"


def system_field(fid: str, name: str, stype: str, items: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": stype, "system": fid}
    if items:
        schema["items"] = items
    return {"id": fid, "name": name, "custom": False, "clauseNames": [fid], "schema": schema}


def custom_field(num: int, name: str, kind: str = "textfield") -> dict[str, Any]:
    return {
        "id": f"customfield_{num}",
        "name": name,
        "custom": True,
        "clauseNames": [f"cf[{num}]", name],
        "schema": {"type": "string", "custom": CF + kind, "customId": num},
    }


PRIORITIES = [
    {"id": "2", "name": "High"},
    {"id": "3", "name": "Medium"},
    {"id": "4", "name": "Low"},
]


@dataclass
class Catalogue:
    """Fields of the site, issue types of project AIGOV, and one create screen per type."""

    fields: list[dict[str, Any]] = field(
        default_factory=lambda: [
            system_field("summary", "Summary", "string"),
            system_field("description", "Description", "string"),
            system_field("issuetype", "Issue Type", "issuetype"),
            system_field("project", "Project", "project"),
            system_field("priority", "Priority", "priority"),
            system_field("labels", "Labels", "array", "string"),
            system_field("duedate", "Due date", "date"),
            custom_field(10290, "Escalation Id"),
            custom_field(10291, "Escalation ID (legacy)"),
            custom_field(10299, "Policy Name"),
            custom_field(10431, "Escalation ID"),
            custom_field(10432, "Policy Name"),
            custom_field(10436, "Investigation Notes", "textarea"),
        ]
    )
    issue_types: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"id": "10002", "name": "Task", "subtask": False},
            {"id": "10001", "name": "Story", "subtask": False},
        ]
    )
    screen: list[str] = field(
        default_factory=lambda: [
            "summary",
            "issuetype",
            "project",
            "description",
            "priority",
            "labels",
            "duedate",
            "customfield_10290",
            "customfield_10431",
            "customfield_10432",
            "customfield_10436",
        ]
    )
    required: set[str] = field(default_factory=lambda: {"summary", "issuetype", "project"})
    calls: Counter[str] = field(default_factory=Counter)
    created: list[dict[str, Any]] = field(default_factory=list)

    def create_meta(self) -> list[dict[str, Any]]:
        by_id = {f["id"]: f for f in self.fields}
        out = []
        for fid in self.screen:
            f = by_id[fid]
            entry = {
                "fieldId": fid,
                "key": fid,
                "name": f["name"],
                "required": fid in self.required,
                "hasDefaultValue": False,
                "schema": f["schema"],
                "operations": ["set"],
            }
            if fid == "priority":
                entry["allowedValues"] = PRIORITIES
            out.append(entry)
        return out

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/rest/api/3")
        self.calls[path] += 1
        if path == "/field":
            return httpx.Response(200, json=self.fields)
        if path == "/issue/createmeta/AIGOV/issuetypes":
            return httpx.Response(200, json={"issueTypes": self.issue_types, "total": 2})
        if path.startswith("/issue/createmeta/AIGOV/issuetypes/"):
            meta = self.create_meta()
            return httpx.Response(200, json={"fields": meta, "total": len(meta)})
        if path == "/issue" and request.method == "POST":
            self.created.append(json.loads(request.content))
            return httpx.Response(201, json={"id": "1", "key": "AIGOV-1", "self": "x"})
        return httpx.Response(404, json={"errorMessages": [f"no route {path}"], "errors": {}})
