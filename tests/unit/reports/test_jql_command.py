"""``kt-jira jql``: each query on one line under its ``# title: explanation`` line, blank lines
between, and the same pack as JSON for scripts."""

from __future__ import annotations

import json
from pathlib import Path

from kt_jira.config.loader import load_settings
from kt_jira.reports.jql import jql_pack
from tests.unit.tickets.support import invoke

CONFIG = """\
jira:
  project: AIGOV
  fields: {policy_name: "Policy \\"Name\\""}
rules:
  - name: hipaa
    match: {policy: "hipaa*"}
    set: {project: COMPLY}
sla: {mode: jsm}
"""


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "kt-jira.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_text_output_is_an_explanation_line_then_one_query_line(tmp_path: Path) -> None:
    """Blocks of two lines, blank lines between: ``# title: explanation``, then the JQL as the
    pack has it, for every query in order."""
    config = write_config(tmp_path)
    result = invoke("jql", "--config", str(config))
    assert result.exit_code == 0, result.output
    blocks = result.output.rstrip("\n").split("\n\n")
    queries = jql_pack(load_settings(config))
    assert len(blocks) == len(queries)
    for block, query in zip(blocks, queries, strict=True):
        assert block.split("\n") == [f"# {query.title}: {query.explanation}", query.jql]
    assert 'project in (AIGOV, COMPLY) AND labels = "ai-governance"' in result.output
    assert 'ORDER BY "Policy \\"Name\\"" ASC' in result.output
    assert '"Time to resolution" = breached()' in result.output


def test_long_queries_are_never_wrapped(tmp_path: Path) -> None:
    """Even past any terminal width, each query stays on its one line."""
    config = write_config(tmp_path)
    result = invoke("jql", "--config", str(config))
    longest = max((q.jql for q in jql_pack(load_settings(config))), key=len)
    assert len(max(result.output.splitlines(), key=len)) >= 150
    assert longest in result.output.splitlines()


def test_json_output_lists_every_query_for_scripts(tmp_path: Path) -> None:
    """``--format json``: a list of objects with name, title, explanation and jql."""
    config = write_config(tmp_path)
    result = invoke("jql", "--config", str(config), "--format", "json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert listed == [
        {"name": q.name, "title": q.title, "explanation": q.explanation, "jql": q.jql}
        for q in jql_pack(load_settings(config))
    ]


def test_a_bad_config_is_one_clear_error(tmp_path: Path) -> None:
    """An invalid config exits 2 with the loader's message, not a traceback."""
    path = tmp_path / "kt-jira.yaml"
    path.write_text("sla: {mode: nope}\n", encoding="utf-8")
    result = invoke("jql", "--config", str(path))
    assert result.exit_code == 2
    assert "sla.mode" in result.output


def test_the_documented_output_is_the_commands(tmp_path: Path) -> None:
    """The example under "## jql" in docs/configuration.md is what the defaults print."""
    docs = (Path(__file__).resolve().parents[3] / "docs" / "configuration.md").read_text("utf-8")
    section = docs.split("\n## jql\n", 1)[1]
    example = section.split("```text\n", 1)[1].split("```", 1)[0]
    empty = tmp_path / "kt-jira.yaml"
    empty.write_text("{}\n", encoding="utf-8")
    result = invoke("jql", "--config", str(empty))
    assert result.exit_code == 0, result.output
    assert result.output == example
