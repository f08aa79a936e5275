"""The Jira side of the bridge: an async client, its rate limit and pause, and draft checking.

JiraClient          one method per REST endpoint; errors mapped at one boundary
RateLimiter         client-side token bucket, creates before updates
PauseStore          the shared "wait until" after a 429 (MemoryPauseStore for one process)
JiraMetadata        draft -> create body, checked against fields and create screens
find_by_label       exact correlation-label search (Cloud enhanced search, DC offset search)
find_existing       the issue an uncertain create made, by the configured correlation marker
"""

from kt_jira.jira.client import API_PREFIX, PAUSE_NAME, JiraClient
from kt_jira.jira.correlation import find_existing
from kt_jira.jira.metadata import JiraMetadata
from kt_jira.jira.models import (
    AllowedValue,
    CreateField,
    FieldInfo,
    IssueLinkType,
    IssueTypeInfo,
    JiraUser,
    SearchPage,
)
from kt_jira.jira.pause import MemoryPauseStore, PauseStore, wait_out_pause
from kt_jira.jira.ratelimit import (
    PRIORITY_CREATE,
    PRIORITY_DEFAULT,
    RateLimiter,
    retry_after_seconds,
)
from kt_jira.jira.search import find_by_label

__all__ = [
    "API_PREFIX",
    "PAUSE_NAME",
    "PRIORITY_CREATE",
    "PRIORITY_DEFAULT",
    "AllowedValue",
    "CreateField",
    "FieldInfo",
    "IssueLinkType",
    "IssueTypeInfo",
    "JiraClient",
    "JiraMetadata",
    "JiraUser",
    "MemoryPauseStore",
    "PauseStore",
    "RateLimiter",
    "SearchPage",
    "find_by_label",
    "find_existing",
    "retry_after_seconds",
    "wait_out_pause",
]
