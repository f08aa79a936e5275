"""Stateful, strict simulators of Jira (Cloud or Data Center) and Keeptrusts, and a signed
webhook sender.

Used by `kt-jira demo`, by integration and acceptance tests over real loopback HTTP, and by
benchmarks. They behave as the references say the real services do, so the bridge cannot pass
here and fail against a real site. Nothing runs at import time.
"""

from kt_jira.sandbox.faults import Faults
from kt_jira.sandbox.jira.app import JiraSandbox
from kt_jira.sandbox.jira.state import JiraSandboxSettings, SandboxIssue
from kt_jira.sandbox.jira.workflow import Status, Transition, Workflow, guide_workflow
from kt_jira.sandbox.keeptrusts.app import KeeptrustsSandbox
from kt_jira.sandbox.keeptrusts.payloads import envelope, escalation_payload, resolved_payload
from kt_jira.sandbox.keeptrusts.state import KeeptrustsSandboxSettings, SandboxEscalation
from kt_jira.sandbox.sender import DeliveryResult, KeeptrustsSender, sign
from kt_jira.sandbox.server import serve_app, serve_app_in_thread

__all__ = [
    "DeliveryResult",
    "Faults",
    "JiraSandbox",
    "JiraSandboxSettings",
    "KeeptrustsSandbox",
    "KeeptrustsSandboxSettings",
    "KeeptrustsSender",
    "SandboxEscalation",
    "SandboxIssue",
    "Status",
    "Transition",
    "Workflow",
    "envelope",
    "escalation_payload",
    "guide_workflow",
    "resolved_payload",
    "serve_app",
    "serve_app_in_thread",
    "sign",
]
