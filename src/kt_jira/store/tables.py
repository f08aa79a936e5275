"""The schema as SQLAlchemy Core tables on one ``MetaData``, plus the portable column types.

This is the model the code queries; ``migrations/`` is what builds it, and a test checks that the
two agree. The column types live in ``types.py`` (re-exported here). Only ``store/`` may import
this module.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from kt_jira.store.types import BigId as BigId
from kt_jira.store.types import Json as Json
from kt_jira.store.types import UTCDateTime as UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


def _id() -> Column[int]:
    return Column("id", BigId, primary_key=True, autoincrement=True)


def _escalation_fk() -> ForeignKey:
    return ForeignKey("escalations.escalation_id", ondelete="CASCADE")


_OPEN = text("closed_at IS NULL")


deliveries = Table(
    "deliveries",
    metadata,
    _id(),
    Column("source", String(32), nullable=False),
    Column("delivery_id", String(255), nullable=False),
    Column("event_key", String(500), nullable=False, server_default=""),
    Column("event_type", String(100), nullable=False, server_default=""),
    Column("status", String(20), nullable=False),
    Column("reason", Text, nullable=True),
    Column("http_status", Integer, nullable=True),
    Column("headers", Json, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("verified_by", String(100), nullable=False, server_default=""),
    Column("received_at", UTCDateTime, nullable=False),
    Column("duplicates", Integer, nullable=False, server_default="0"),
    Column("escalation_id", String(200), nullable=True),
    UniqueConstraint("source", "delivery_id"),
    Index("ix_deliveries_source_event_key", "source", "event_key"),
    Index("ix_deliveries_status_received_at", "status", "received_at"),
    # One accepted delivery per fact: a re-sent event under a new delivery id is a duplicate,
    # and the database (not a read-then-write race) decides which of two concurrent ones wins.
    Index(
        "uq_deliveries_accepted_event_key",
        "source",
        "event_key",
        unique=True,
        sqlite_where=text("status = 'accepted' AND event_key <> ''"),
        postgresql_where=text("status = 'accepted' AND event_key <> ''"),
    ),
)

# Everything an escalation carries is payload text of unbounded length: Text, never VARCHAR(n),
# so a long policy name cannot make PostgreSQL reject (and the sender retry) a delivery forever.
escalations = Table(
    "escalations",
    metadata,
    Column("escalation_id", String(200), primary_key=True),
    Column("policy_name", Text, nullable=False, server_default=""),
    Column("action", Text, nullable=False, server_default=""),
    Column("model", Text, nullable=False, server_default=""),
    Column("gateway_id", Text, nullable=False, server_default=""),
    Column("user_id", Text, nullable=False, server_default=""),
    Column("org_id", Text, nullable=False, server_default=""),
    Column("severity", Text, nullable=False, server_default=""),
    Column("category", Text, nullable=False, server_default=""),
    Column("occurred_at", UTCDateTime, nullable=True),
    Column("status", String(20), nullable=False),
    Column("resolution", Text, nullable=False, server_default=""),
    Column("resolution_notes", Text, nullable=False, server_default=""),
    Column("resolved_by", Text, nullable=False, server_default=""),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("payload", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_escalations_status", "status"),
)

links = Table(
    "links",
    metadata,
    Column(
        "escalation_id",
        String(200),
        ForeignKey("escalations.escalation_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("project", String(100), nullable=False),
    Column("correlation_label", String(255), nullable=False),
    Column("state", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("attempt_started_at", UTCDateTime, nullable=True),
    Column("issue_id", String(64), nullable=True, unique=True),
    Column("issue_key", String(64), nullable=True),
    Column("adopted", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UTCDateTime, nullable=True),
    Column("first_response_due", UTCDateTime, nullable=True),
    Column("resolution_due", UTCDateTime, nullable=True),
    Column("first_response_at", UTCDateTime, nullable=True),
    Column("breached_at", UTCDateTime, nullable=True),
    Column("last_origin", String(50), nullable=True),
    Column("last_synced_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    # Two-way sync (0002): the newest Jira status seen, when it was set (webhook time, or our
    # own write), until when Jira webhooks without an author are our echoes, and when each
    # direction finished; deleted_at marks an issue deleted in Jira (never recreated).
    Column("jira_status_id", String(64), nullable=True),
    Column("jira_status_category", String(32), nullable=True),
    Column("jira_status_at", UTCDateTime, nullable=True),
    Column("jira_changelog_id", BigInteger, nullable=True),  # orders changes within one ms
    Column("bridge_busy_until", UTCDateTime, nullable=True),
    Column("synced_to_keeptrusts_at", UTCDateTime, nullable=True),
    Column("synced_to_jira_at", UTCDateTime, nullable=True),
    Column("deleted_at", UTCDateTime, nullable=True),
    # SLA (0003): when the clocks started, the targets in working seconds and their calendar
    # (null: not tracked), when the scan found every target final, and the Jira resolution of
    # the newest done status (the false-positive loop counts it).
    Column("sla_started_at", UTCDateTime, nullable=True),
    Column("sla_first_response_seconds", Integer, nullable=True),
    Column("sla_resolution_seconds", Integer, nullable=True),
    Column("sla_calendar", String(100), nullable=True),
    Column("sla_settled_at", UTCDateTime, nullable=True),
    Column("jira_resolution", Text, nullable=True),
    Column("resolved_in_jira_at", UTCDateTime, nullable=True),
    # Reports (0004): what the ticket was created as (null: before 0004, or not known).
    Column("priority", String(100), nullable=True),
    Column("issue_type", String(100), nullable=True),
    Index("ix_links_state", "state"),
    Index("ix_links_created_at", "created_at"),
    Index("ix_links_correlation_label", "correlation_label"),
    Index("ix_links_sla_settled_at", "sla_settled_at"),
)

# Dated facts the SLA clocks run on (``tickets.sla_clock.Signal``); a repeat is one row.
sla_signals = Table(
    "sla_signals",
    metadata,
    _id(),
    Column(
        "escalation_id",
        String(200),
        ForeignKey("links.escalation_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("kind", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    UniqueConstraint("escalation_id", "kind", "at"),
)

# One row per breach (or at-risk warning) acted on: the unique key is "acted on exactly once".
sla_actions = Table(
    "sla_actions",
    metadata,
    _id(),
    Column(
        "escalation_id",
        String(200),
        ForeignKey("links.escalation_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("target", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    Column("due", UTCDateTime, nullable=False),
    Column("acted_at", UTCDateTime, nullable=False),
    UniqueConstraint("escalation_id", "target", "action"),
)

# The false-positive loop's "Policy improvement" Stories (``policy_key``: a digest of the
# policy name, so the unique key stays short), created exactly once like tickets.
feedback_stories = Table(
    "feedback_stories",
    metadata,
    _id(),
    Column("policy", Text, nullable=False),
    Column("policy_key", String(64), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("project", String(100), nullable=False),
    Column("marker", String(255), nullable=False),
    Column("state", String(20), nullable=False),
    Column("attempt_started_at", UTCDateTime, nullable=True),
    Column("issue_id", String(64), nullable=True),
    Column("issue_key", String(64), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("policy_key", "sequence"),
)

feedback_members = Table(
    "feedback_members",
    metadata,
    _id(),
    Column(
        "story_id",
        BigId,
        ForeignKey("feedback_stories.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("escalation_id", String(200), nullable=False),
    Column("issue_key", String(64), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
    Column("linked_at", UTCDateTime, nullable=True),
    UniqueConstraint("story_id", "escalation_id"),
)

jobs = Table(
    "jobs",
    metadata,
    _id(),
    Column("kind", String(50), nullable=False),
    Column("job_key", String(500), nullable=False, unique=True),
    Column("payload", Json, nullable=False),
    Column("status", String(20), nullable=False),
    Column("priority", Integer, nullable=False, server_default="10"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("run_at", UTCDateTime, nullable=False),
    Column("locked_by", String(200), nullable=True),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_jobs_status_priority_run_at", "status", "priority", "run_at"),
)

pauses = Table(
    "pauses",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("until", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
)

audit = Table(
    "audit",
    metadata,
    _id(),
    Column("at", UTCDateTime, nullable=False),
    Column("entity", String(50), nullable=False),
    Column("entity_id", String(200), nullable=False),
    Column("action", String(50), nullable=False),
    Column("detail", Json, nullable=False),
    Index("ix_audit_entity_id", "entity_id"),
)

# Grouping (0005): escalations that share one ticket. The opener's link owns the ticket (and its
# SLA clock); the partial unique index makes "one open group per key" a database fact.
ticket_groups = Table(
    "ticket_groups",
    metadata,
    _id(),
    Column("group_key", String(255), nullable=False),
    Column("rule", Text, nullable=False, server_default=""),
    Column("policy_name", Text, nullable=False, server_default=""),
    Column("reason", String(16), nullable=False),  # rule | storm
    Column("opener_id", String(200), _escalation_fk(), unique=True, nullable=False),
    Column("summary", Text, nullable=False, server_default=""),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("window_ends_at", UTCDateTime, nullable=False),
    Column("member_count", Integer, nullable=False, server_default="0"),
    Column("closed_at", UTCDateTime, nullable=True),
    Index(
        "uq_ticket_groups_open_group_key",
        "group_key",
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    ),
)

# A further escalation of a group: a comment on its ticket (exactly once: pending, attempting,
# posted), and the sync columns a link has for the escalation's own resolution.
group_members = Table(
    "group_members",
    metadata,
    Column("escalation_id", String(200), _escalation_fk(), primary_key=True),
    Column("group_id", BigId, ForeignKey("ticket_groups.id", ondelete="CASCADE"), nullable=False),
    Column("joined_at", UTCDateTime, nullable=False),
    Column("comment_state", String(16), nullable=False, server_default="pending"),
    Column("commented_at", UTCDateTime, nullable=True),
    Column("comment_id", String(64), nullable=True),
    Column("last_origin", String(50), nullable=True),
    Column("synced_to_keeptrusts_at", UTCDateTime, nullable=True),
    Column("synced_to_jira_at", UTCDateTime, nullable=True),
    Index("ix_group_members_group_id", "group_id"),
)

# The runaway guard's storms: one row per storm of a policy (``policy_key``: a digest of the
# name, so the unique key stays short), so "says so once" is a database fact.
storms = Table(
    "storms",
    metadata,
    _id(),
    Column("policy_name", Text, nullable=False),
    Column("policy_key", String(64), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("group_id", BigId, ForeignKey("ticket_groups.id", ondelete="SET NULL"), nullable=True),
    Column("tickets", Integer, nullable=False),
    UniqueConstraint("policy_key", "started_at"),
    Index("ix_storms_ends_at", "ends_at"),
)
