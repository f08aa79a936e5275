"""The pure grouping decisions: group keys from rule values, the member comment, the counted
summary and the runaway guard's threshold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kt_jira.config.storm import StormSettings
from kt_jira.events.keeptrusts import Escalation
from kt_jira.jira.comments import plain_text
from kt_jira.render.adf import to_adf
from kt_jira.render.wiki import to_wiki
from kt_jira.tickets.groups import (
    counted_summary,
    headline,
    member_comment,
    member_headline,
    rule_group,
    span_words,
    storm_announcement,
    storm_due,
    storm_group,
    storm_key,
    storm_story_note,
)

HOUR = timedelta(hours=1)
AT = datetime(2027, 1, 10, 9, 30, tzinfo=UTC)


def esc(escalation_id: str = "esc-1", **fields: str) -> Escalation:
    values = {"policy_name": "pii-detector", "action": "block", "model": "gpt-4o",
              "gateway_id": "gw-1", "user_id": "u-1", "severity": "high"} | fields  # fmt: skip
    return Escalation(escalation_id=escalation_id, occurred_at=AT, **values)


def key(escalation: Escalation, *group_by: str, rule: str = "r", category: str = "PII") -> str:
    return rule_group(escalation, rule=rule, category=category, group_by=group_by, window=HOUR).key


def test_same_values_share_a_key_whatever_the_case_and_spacing() -> None:
    """Values are normalised: case, surrounding and doubled spaces do not split a group."""
    assert key(esc(model="GPT-4o "), "policy", "model") == key(
        esc(model="gpt-4o"), "policy", "model"
    )
    assert key(esc(policy_name="pii  detector"), "policy") == key(
        esc(policy_name="PII detector"), "policy"
    )


def test_other_values_other_rules_and_other_keys_split_groups() -> None:
    """A different value, rule or set of group_by keys is a different group."""
    base = key(esc(), "policy", "model")
    assert key(esc(model="claude"), "policy", "model") != base
    assert key(esc(), "policy", "model", rule="other") != base
    assert key(esc(), "policy") != base
    assert key(esc(), "model", "policy") != base  # order is part of the rule's grouping
    assert key(esc(user_id="u-2"), "policy", "model") == base  # not grouped by user


def test_a_missing_value_is_its_own_bucket() -> None:
    """Escalations without a gateway group together, apart from those with one."""
    assert key(esc(gateway_id=""), "gateway_id") == key(esc("esc-2", gateway_id=" "), "gateway_id")
    assert key(esc(gateway_id=""), "gateway_id") != key(esc(), "gateway_id")


def test_category_comes_from_the_decision() -> None:
    """``category`` groups by what the rules decided, not only the payload's field."""
    assert key(esc(), "category", category="PII") != key(esc(), "category", category="Safety")
    choice = rule_group(esc(), rule="r", category="PII", group_by=["category"], window=HOUR)
    assert choice.values == (("category", "pii"),)
    assert choice.key.startswith("rule:")
    assert len(choice.key) <= 255


def test_a_storm_groups_by_policy_alone() -> None:
    """The storm key depends on the (normalised) policy only, never on the rule or model."""
    assert storm_key("PII-Detector") == storm_key("pii-detector ")
    assert storm_key("pii-detector") != storm_key("toxicity")
    choice = storm_group("pii-detector", rule="default", window=HOUR)
    assert (choice.reason, choice.key) == ("storm", storm_key("pii-detector"))
    assert choice.key != key(esc(), "policy")


def test_the_guard_trips_when_one_more_ticket_would_exceed_the_limit() -> None:
    """With 50 allowed, the 51st ticket is the storm's; 0 or null never trips."""
    settings = StormSettings()
    assert not storm_due(49, settings)
    assert storm_due(50, settings)
    assert not storm_due(10_000, StormSettings(max_tickets_per_policy=0))
    assert not storm_due(10_000, StormSettings(max_tickets_per_policy=None))


def test_counted_summary_fits_jira() -> None:
    """The count leads the summary, which stays one line of at most 255 characters."""
    assert counted_summary("AI Escalation: pii", 1) == "[1 escalation] AI Escalation: pii"
    assert counted_summary("AI Escalation: pii", 12) == "[12 escalations] AI Escalation: pii"
    long = counted_summary("x" * 255, 1000)
    assert long.startswith("[1000 escalations] x")
    assert len(long) <= 255


def test_member_comment_says_what_when_who_and_links_the_console() -> None:
    """The comment opens with the escalation's headline and names the policy, action, time,
    user, model and gateway, with a console link; hostile text stays text."""
    hostile = esc("esc-9", user_id="[x|http://evil] *bold*", model="{{ 7*7 }}")
    doc = member_comment(hostile, console_url="https://console.example", joined_at=AT)
    adf = to_adf(doc)
    words = plain_text(adf)
    assert words.startswith(member_headline("esc-9") + ".")
    shown = ("pii-detector", "block (high)", "2027-01-10 09:30:00 UTC", "[x|http://evil] *bold*")
    for part in (*shown, "{{ 7*7 }}", "gw-1"):
        assert part in words
    assert "https://console.example/escalations/esc-9" in str(adf)
    wiki = to_wiki(doc)
    assert wiki.startswith(to_wiki(headline("esc-9")))
    assert "[x|http://evil]" not in wiki  # escaped: text, never a wiki link


def test_headlines_of_similar_ids_do_not_prefix_each_other() -> None:
    """``esc-1``'s headline is not the start of ``esc-12``'s, so a retry finds only its own."""
    assert not member_headline("esc-12").startswith(member_headline("esc-1") + ".")


def test_storm_texts_name_the_policy_the_count_and_the_end() -> None:
    """The storm's comment and its Story note say which policy, how many tickets in how long,
    where its escalations went and until when; the window reads as people read it."""
    until = AT + timedelta(minutes=10)
    words = plain_text(
        to_adf(
            storm_announcement("bad-regex", tickets=50, window=timedelta(minutes=10), until=until)
        )
    )
    assert words.startswith(
        "Storm control: policy bad-regex opened 50 tickets in 10 min; further escalations are "
        "grouped here until 09:40 UTC."
    )
    note = plain_text(
        to_adf(
            storm_story_note(
                "bad-regex",
                tickets=50,
                window=timedelta(hours=2),
                started_at=AT,
                until=until,
                ticket="AIGOV-7",
            )
        )
    )
    assert "on 2027-01-10 09:30 UTC policy bad-regex opened 50 tickets in 2 h" in note
    assert "grouped into AIGOV-7 until 09:40 UTC" in note
    spans = [span_words(timedelta(seconds=s)) for s in (20, 600, 7200, 3 * 86400)]
    assert spans == ["1 min", "10 min", "2 h", "3 d"]
