"""The guide's design, ported: its AWS Lambda handler on the bridge's own server stack.

A Python port of the handler in the Keeptrusts guide "Create Jira Tickets from AI Escalations"
("AWS Lambda implementation"): parse the JSON body, build the issue, ``POST /rest/api/3/issue``
inside the request, answer ``201 {"issue_key": ...}`` when Jira said 2xx, else ``500``. It
verifies nothing (no signature, no delivery id, no dedup, no queue). Served exactly as
``bench.bare_server`` serves its endpoint (``serve_like_bridge``), so ``bench.vs_guide``
compares designs, not stacks. Settings come from the environment, as the guide's
``process.env``: ``JIRA_URL``, ``JIRA_EMAIL``, ``JIRA_API_TOKEN`` (the guide reads it from SSM),
``JIRA_PROJECT_KEY`` (default ``AIGOV``).

- ``--faithful``: exactly the guide's body: hard-coded ``customfield_10100..10103`` and a
  wiki-markup *string* description. A strict Jira Cloud answers 400 to every create.
- ``--fixed-fields`` (default): the same architecture, but the field ids are looked up once at
  start (``GET /rest/api/3/field``, exact names, narrowed to the project's create screen where a
  name is taken twice, as the guide's troubleshooting table says) and the description is ADF,
  so creates succeed and latency, duplicates and loss can be compared.

    JIRA_URL=http://127.0.0.1:8100 JIRA_EMAIL=... JIRA_API_TOKEN=... \\
        python -m bench.guide_server --port 8099 [--faithful]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.bare_server import healthz, serve_like_bridge

JsonDict = dict[str, Any]
GUIDE_FIELD_IDS = {  # the guide's hard-coded ids, in its order
    "Escalation ID": "customfield_10100",
    "Policy Name": "customfield_10101",
    "Model": "customfield_10102",
    "Gateway ID": "customfield_10103",
}
PAYLOAD_KEYS = {  # which payload key fills which field
    "Escalation ID": "escalation_id",
    "Policy Name": "policy_name",
    "Model": "model",
    "Gateway ID": "gateway_id",
}
# The guide's fetch() has no timeout of its own; a Lambda would be cut at its function timeout.
JIRA_TIMEOUT = 30.0


def map_priority(event: JsonDict) -> str:
    """The guide's ``mapPriority``."""
    action = event.get("action")
    if action == "block":
        return "Highest"
    if action == "escalate":
        return "High"
    if action == "redact":
        return "Medium"
    return "Low"


def build_description(event: JsonDict) -> str:
    """The guide's ``buildDescription``: wiki markup as one string (JS renders a missing key as
    ``undefined``)."""

    def v(key: str) -> str:
        value = event.get(key)
        return "undefined" if value is None else str(value)

    return (
        "h2. AI Governance Escalation\n"
        "||Field||Value||\n"
        f"|Policy|{v('policy_name')}|\n"
        f"|Action|{v('action')}|\n"
        f"|Model|{v('model')}|\n"
        f"|Gateway|{v('gateway_id')}|\n"
        f"|User|{v('user_id')}|\n"
        f"|Time|{v('timestamp')}|\n"
        f"|Escalation ID|{v('escalation_id')}|\n"
        "[View in Keeptrusts Console|https://console.keeptrusts.com/escalations/"
        f"{v('escalation_id')}]\n"
        "h3. Investigation Steps\n"
        "# Open the console link above\n"
        "# Review the event context and conversation history\n"
        "# Determine if the violation is genuine or a false positive\n"
        "# Update this ticket with findings\n"
        "# Resolve the escalation in Keeptrusts"
    )


def as_adf(text: str) -> JsonDict:
    """The fix for a v3 site: the same text as an ADF document, one paragraph per line
    (hand-written: a conversion of wiki markup is beside the point of this benchmark)."""
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}]}
        for line in text.splitlines()
        if line
    ]
    return {"type": "doc", "version": 1, "content": paragraphs}


def issue_payload(
    body: JsonDict, *, project: str, field_ids: dict[str, str], adf: bool
) -> JsonDict:
    """The guide's ``issuePayload`` (``field_ids`` by field name; ``adf`` for the fixed mode)."""
    description = build_description(body)
    fields: JsonDict = {
        "project": {"key": project},
        "summary": f"AI Escalation: {body.get('policy_name')} — {body.get('action')} "
        f"({body.get('model')})",
        "description": as_adf(description) if adf else description,
        "issuetype": {"name": "Bug" if body.get("action") == "block" else "Task"},
        "priority": {"name": map_priority(body)},
        "labels": ["ai-governance", "keeptrusts", body.get("policy_name")],
    }
    for name, key in PAYLOAD_KEYS.items():
        fields[field_ids[name]] = body.get(key)
    return {"fields": fields}


async def lookup_field_ids(client: httpx.AsyncClient, project: str) -> dict[str, str]:
    """The custom fields' real ids: exact name in ``GET /rest/api/3/field``; a name held by
    several fields is narrowed to the one on the project's Task create screen."""
    catalogue = (await client.get("/rest/api/3/field")).raise_for_status().json()
    types = await client.get(f"/rest/api/3/issue/createmeta/{project}/issuetypes")
    task = next(t for t in types.raise_for_status().json()["issueTypes"] if t["name"] == "Task")
    meta = await client.get(f"/rest/api/3/issue/createmeta/{project}/issuetypes/{task['id']}")
    on_screen = {f["fieldId"] for f in meta.raise_for_status().json()["fields"]}
    found: dict[str, str] = {}
    for name in PAYLOAD_KEYS:
        ids = [f["id"] for f in catalogue if f["name"] == name]
        if len(ids) > 1:
            ids = [i for i in ids if i in on_screen]
        if len(ids) != 1:
            raise RuntimeError(f"field {name!r}: {len(ids)} candidates; check GET /field")
        found[name] = ids[0]
    return found


def create_app(client: httpx.AsyncClient, *, project: str, field_ids: dict[str, str],
               adf: bool) -> Starlette:  # fmt: skip
    async def handler(request: Request) -> JSONResponse:
        body = json.loads(await request.body())  # the guide: JSON.parse(event.body)
        payload = issue_payload(body, project=project, field_ids=field_ids, adf=adf)
        response = await client.post("/rest/api/3/issue", json=payload)
        try:
            result = response.json()
        except ValueError:  # the guide's response.json() throws: the Lambda fails, a 5xx
            result = {}
        key = result.get("key") if isinstance(result, dict) else None
        # JSON.stringify drops an undefined key.
        answer = {"issue_key": key} if key is not None else {}
        return JSONResponse(answer, status_code=201 if response.is_success else 500)

    return Starlette(
        routes=[
            Route("/webhooks/keeptrusts", handler, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


async def serve(port: int, *, faithful: bool) -> None:
    token = os.environ["JIRA_API_TOKEN"]
    project = os.environ.get("JIRA_PROJECT_KEY") or "AIGOV"
    async with httpx.AsyncClient(
        base_url=os.environ["JIRA_URL"],
        auth=httpx.BasicAuth(os.environ["JIRA_EMAIL"], token),
        timeout=JIRA_TIMEOUT,
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=100),
    ) as client:
        field_ids = GUIDE_FIELD_IDS if faithful else await lookup_field_ids(client, project)
        print(f"guide port ({'faithful' if faithful else 'fixed fields'}): {field_ids}", flush=True)
        app = create_app(client, project=project, field_ids=field_ids, adf=not faithful)
        await serve_like_bridge(app, port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the guide's inline Jira handler, ported")
    parser.add_argument("--port", type=int, required=True)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--faithful", action="store_true", help="the guide's body exactly")
    mode.add_argument("--fixed-fields", action="store_true", help="real field ids, ADF (default)")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port, faithful=args.faithful))
    return 0


if __name__ == "__main__":
    sys.exit(main())
