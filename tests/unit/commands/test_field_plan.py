"""``setup jira``'s pure part: which fields the config needs, of which type, where, and the
steps (and exit code) that follow from what the site has."""

from __future__ import annotations

from typing import Any

from kt_jira.commands.field_plan import (
    LABELS,
    TEXT,
    URL,
    CreateScreen,
    Target,
    WantedField,
    add_text,
    create_text,
    createmeta_screen,
    exit_code,
    plan,
    wanted_fields,
)
from kt_jira.config.models import Settings
from kt_jira.jira.models import FieldInfo

BUG, TASK = Target("AIGOV", "Bug"), Target("AIGOV", "Task")


def settings(**values: Any) -> Settings:
    return Settings.model_validate({"jira": {"project": "AIGOV"}, **values})


def kinds(found: list[WantedField]) -> dict[str, str]:
    return {w.name: w.kind.key for w in found}


def field(fid: str, name: str, kind: str = "textfield") -> FieldInfo:
    custom = f"com.atlassian.jira.plugin.system.customfieldtypes:{kind}"
    return FieldInfo(id=fid, name=name, custom=True, schema_custom=custom)


def screen(key: str, *ids: str, name: str = "") -> CreateScreen:
    return CreateScreen(
        key=key,
        name=name or f"AIGOV: {key} Create Screen",
        field_ids=frozenset(ids),
        screen_id=key,
        tab_id="1",
        tab_name="Field Tab",
    )


def want(name: str, *targets: Target, kind: Any = TEXT) -> WantedField:
    return WantedField(name=name, kind=kind, targets=targets or (TASK,))


def test_the_guides_rules_need_the_five_concepts_on_bug_and_task_screens() -> None:
    """With no rules, the defaults route to Bug and Task; the console link is a URL field and
    every other concept single-line text."""
    found = wanted_fields(settings().content)
    assert kinds(found) == {
        "Escalation ID": "text",
        "Policy Name": "text",
        "Model": "text",
        "Gateway ID": "text",
        "Console URL": "url",
    }
    assert all(w.targets == (BUG, TASK) for w in found)
    assert found[0].kind == TEXT
    assert found[-1].kind == URL


def test_rule_fields_add_names_types_and_targets() -> None:
    """A rule's text field is text, a list of templates a labels field; an empty template drops
    the field for that rule only; a null concept is not wanted; set.project routes the target."""
    found = wanted_fields(
        settings(
            jira={"project": "AIGOV", "fields": {"model": None}},
            rules=[
                {
                    "name": "sec",
                    "match": {"action": "block"},
                    "set": {
                        "project": "SEC",
                        "issue_type": "Bug",
                        "fields": {"Reviewer Team": "blue", "Tags": ["a", "{{ rule }}"]},
                    },
                },
                {"name": "rest", "set": {"fields": {"Gateway ID": "", "Reviewer Team": "x"}}},
            ],
        ).content
    )
    by_name = {w.name: w for w in found}
    assert kinds(found) == {
        "Escalation ID": "text",
        "Policy Name": "text",
        "Gateway ID": "text",
        "Console URL": "url",
        "Reviewer Team": "text",
        "Tags": "labels",
    }
    assert by_name["Gateway ID"].targets == (Target("SEC", "Bug"),)
    assert by_name["Reviewer Team"].targets == (Target("SEC", "Bug"), TASK)
    assert by_name["Tags"].targets == (Target("SEC", "Bug"),)
    assert by_name["Tags"].kind == LABELS


def test_a_list_in_any_rule_makes_a_labels_field_and_the_console_link_stays_a_url() -> None:
    """Rules that disagree get the type that takes every value: labels over text; a rule that
    sets the console link's field keeps it a URL field."""
    found = wanted_fields(
        settings(
            rules=[
                {"name": "a", "match": {"action": "block"}, "set": {"fields": {"T": "one"}}},
                {"name": "b", "set": {"fields": {"T": ["x", "y"], "Console URL": ["u"]}}},
            ]
        ).content
    )
    assert kinds(found)["T"] == "labels"
    assert kinds(found)["Console URL"] == "url"


def test_a_missing_field_is_created_and_added_to_each_screen_once() -> None:
    """No field of that exact name (a look-alike does not count): create it, and add it to
    every distinct create screen of its targets (two targets sharing a screen add once)."""
    shared = screen("1002")
    [step] = plan(
        [want("Reviewer Team", BUG, TASK, Target("AIGOV", "Story"))],
        [field("customfield_1", "Reviewer team")],
        {BUG: screen("1001"), TASK: shared, Target("AIGOV", "Story"): shared},
    )
    assert step.create
    assert step.field_id is None
    assert [s.key for s in step.add_to] == ["1001", "1002"]
    assert not step.by_hand


def test_a_present_field_is_only_added_where_it_is_missing() -> None:
    """An existing field is used, never created again; it goes only on the screens without it."""
    [step] = plan(
        [want("Gateway ID", BUG, TASK)],
        [field("customfield_7", "Gateway ID")],
        {BUG: screen("1001", "customfield_7"), TASK: screen("1002")},
    )
    assert not step.create
    assert step.field_id == "customfield_7"
    assert [s.key for s in step.present_on] == ["1001"]
    assert [s.key for s in step.add_to] == ["1002"]


def test_everything_in_place_is_done_and_exits_zero() -> None:
    """A field on every screen it needs leaves nothing to do: exit 0, dry run or not."""
    steps = plan([want("Model")], [field("cf_1", "Model")], {TASK: screen("1002", "cf_1")})
    assert steps[0].done
    assert exit_code(steps, applied=False) == 0
    assert exit_code(steps, applied=True) == 0


def test_duplicate_names_pick_the_one_on_a_screen_or_of_the_right_type() -> None:
    """Jira allows duplicate names: the duplicate already on a screen is the one to add
    elsewhere; else the only one of the wanted type; else a person must choose."""
    fields = [field("cf_1", "Policy Name"), field("cf_2", "Policy Name")]
    on_bug = plan(
        [want("Policy Name", BUG, TASK)],
        fields,
        {BUG: screen("1001", "cf_2"), TASK: screen("1002")},
    )
    assert on_bug[0].field_id == "cf_2"
    url_wanted = plan(
        [want("Link", kind=URL)],
        [field("cf_3", "Link"), field("cf_4", "Link", "url")],
        {TASK: screen("1002")},
    )
    assert url_wanted[0].field_id == "cf_4"
    [ambiguous] = plan([want("Policy Name")], fields, {TASK: screen("1002")})
    assert not ambiguous.add_to
    assert not ambiguous.create
    assert "2 fields are named 'Policy Name' (cf_1, cf_2)" in ambiguous.by_hand[0]
    assert exit_code([ambiguous], applied=True) == 1


def test_two_same_named_fields_on_one_screen_are_a_problem() -> None:
    """Two fields of the name on one screen make drafts ambiguous: a step by hand."""
    fields = [field("cf_1", "Model"), field("cf_2", "Model")]
    [step] = plan([want("Model")], fields, {TASK: screen("1002", "cf_1", "cf_2")})
    assert "2 fields named 'Model' are on screen 'AIGOV: 1002 Create Screen'" in step.by_hand[0]


def test_unreadable_targets_and_team_managed_projects_are_steps_by_hand() -> None:
    """A target without a screen (unknown issue type) and a team-managed project (whose fields
    are its own) are steps by hand; neither makes a global field."""
    team = createmeta_screen(TASK, frozenset(), team=True)
    [step] = plan(
        [want("Reviewer Team", BUG, TASK)],
        [],
        {BUG: "project AIGOV has no issue type 'Bug'", TASK: team},
    )
    assert not step.create
    assert step.by_hand == (
        "project AIGOV is team-managed, so its fields are its own: Project settings → Issue "
        "types → Task → add a Short text (plain text only) field named 'Reviewer Team'",
        "AIGOV Bug: project AIGOV has no issue type 'Bug'",
    )


def test_exit_codes_say_what_is_left() -> None:
    """3: a dry run found only what --create-fields does; 0 once it ran; 1 whenever a screen
    known only through createmeta (Data Center, no admin) still lacks a field."""
    admin = plan([want("X")], [], {TASK: screen("1002")})
    assert exit_code(admin, applied=False) == 3
    assert exit_code(admin, applied=True) == 0
    by_hand = plan([want("X")], [], {TASK: createmeta_screen(TASK, frozenset(), team=False)})
    assert exit_code(by_hand, applied=False) == 1
    assert exit_code(by_hand, applied=True) == 1


def test_steps_by_hand_name_the_admin_pages_of_each_flavour() -> None:
    """Cloud's and Data Center's admin pages and type names, the field, and where it goes."""
    dc_screen = createmeta_screen(TASK, frozenset(), team=False)
    [step] = plan([want("Console URL", kind=URL)], [], {TASK: dc_screen})
    assert create_text(step, "datacenter") == (
        "Administration (⚙) → Issues → Custom fields → Add custom field → URL Field → name "
        "'Console URL' → associate it with the create screen of AIGOV's Task issues (Project "
        "settings → Screens shows which screen that is)"
    )
    [cloud] = plan([want("Model")], [], {TASK: screen("1002", name="AIGOV: Task Create Screen")})
    assert create_text(cloud, "cloud") == (
        "Settings (⚙) → Issues → Custom fields → Create custom field → Short text (plain text "
        "only) → name 'Model' → associate it with screen 'AIGOV: Task Create Screen'"
    )
    assert add_text("Model", "cf_9", cloud.add_to[0], "cloud") == (
        "Settings (⚙) → Issues → Screens → screen 'AIGOV: Task Create Screen' → Configure → "
        "add field 'Model' (cf_9)"
    )
