"""The ``sla_action`` job: label the ticket and say in a comment which target was missed (or is
at risk), by how much, and the deadline. The scan decided it once; this carries it out.

The label is an idempotent add. The comment is not, so a retry after an uncertain post reads
the ticket's comments first and does not post a second one. The bridge's own comments never
count as a first response: its account is not a person, and the echo window covers sites that
send webhooks without an author.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from kt_jira.config.models import Settings
from kt_jira.jira import JiraClient
from kt_jira.jira.comments import already_posted, comment_body
from kt_jira.jobs import Kind
from kt_jira.render.nodes import Document, paragraph, text
from kt_jira.store import Job, Store
from kt_jira.worker import Handler

log = structlog.get_logger("kt_jira.sla")


@dataclass(kw_only=True)
class SlaActions:
    settings: Settings
    store: Store
    jira: JiraClient
    clock: Callable[[], datetime]

    def table(self) -> dict[str, Handler]:
        return {Kind.SLA_ACTION: self.act}

    async def act(self, job: Job) -> None:
        p = job.payload
        escalation_id = str(p["escalation_id"])
        link = await self.store.links.get(escalation_id)
        if link is None or link.issue_id is None or link.deleted_at is not None:
            log.info("sla.action_skipped", escalation_id=escalation_id, reason="no live issue")
            return
        label, comment = str(p.get("label") or ""), str(p.get("comment") or "")
        if label:
            await self.jira.add_labels(link.issue_id, [label])
        if comment and not (job.attempts > 1 and await self._posted(link.issue_id, comment)):
            echo = timedelta(seconds=self.settings.sync.echo_window_seconds)
            now = self.clock()
            await self.store.sync.begin_sync(
                escalation_id, origin=None, now=now, busy_until=now + echo
            )
            await self.jira.add_comment(link.issue_id, self._body(comment))
        log.info("sla.acted", escalation_id=escalation_id, issue_key=link.issue_key,
                 target=p["target"], action=p["action"])  # fmt: skip

    def _body(self, comment: str) -> dict[str, Any] | str:
        doc = Document(content=(paragraph(text(comment)),))
        return comment_body(doc, self.settings.jira.flavor)

    async def _posted(self, issue_id: str, comment: str) -> bool:
        """Whether an earlier try posted this comment (its first words name the target)."""
        return await already_posted(self.jira, issue_id, comment.split(":", 1)[0])
