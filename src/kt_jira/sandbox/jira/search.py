"""Evaluation of parsed JQL against the simulated site, with Jira's text-search semantics.

`~` is fuzzy as on a real site: tokenised, case-insensitive, stop words dropped, every query
word must appear as a word (so ``~ "esc-1-2"`` also matches ``esc-2-1``). Labels are exact.
Validation happens at compile time, so bad queries fail even on an empty site. No I/O.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from datetime import UTC, datetime

from kt_jira.sandbox.jira.adf import adf_text
from kt_jira.sandbox.jira.jql import Bool, Clause, Empty, Function, JqlError, Literal, Node, Not
from kt_jira.sandbox.jira.site import ISSUE_TYPES, PRIORITIES, RESOLUTIONS, FieldDef, Named
from kt_jira.sandbox.jira.state import JiraState, SandboxIssue
from kt_jira.sandbox.jira.workflow import CATEGORIES

Pred = Callable[[SandboxIssue], bool]
# fmt: off
STOP_WORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
    "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
    "these", "they", "this", "to", "was", "will", "with",
))
# fmt: on
_PERIOD = re.compile(r"([-+]?)(\d+)([wdhm])")
_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
_EQ = ("=", "!=", "in", "not in")


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def fuzzy_match(query: str, text: str) -> bool:
    """Jira's `~`: all query words (minus stop words) appear as words; ``"..."`` is a phrase."""
    haystack = words(text)
    phrase = len(query) >= 2 and query[0] == query[-1] == '"'
    wanted = [w for w in re.findall(r"[\w*?]+", query.lower()) if w not in STOP_WORDS]
    if not wanted:
        return False
    if phrase:
        n = len(wanted)
        return any(haystack[i : i + n] == wanted for i in range(len(haystack) - n + 1))
    return all(any(fnmatch.fnmatchcase(h, w) for h in haystack) for w in wanted)


def _unsupported(op: str, name: str) -> JqlError:
    return JqlError(f"The operator '{op.upper()}' is not supported by the '{name}' field.")


def _no_value(value: str, name: str) -> JqlError:
    return JqlError(f"The value '{value}' does not exist for the field '{name}'.")


class Compiler:
    """Turns a JQL tree into a predicate, validating fields, operators and values."""

    def __init__(self, state: JiraState, now: float) -> None:
        self.state = state
        self.now = now

    def compile(self, node: Node) -> Pred:
        if isinstance(node, Bool):
            preds = [self.compile(p) for p in node.parts]
            if node.op == "and":
                return lambda i: all(p(i) for p in preds)
            return lambda i: any(p(i) for p in preds)
        if isinstance(node, Not):
            inner = self.compile(node.inner)
            return lambda i: not inner(i)
        return self.clause(node)

    def clause(self, c: Clause) -> Pred:
        name = c.field if c.field_quoted else c.field.lower()
        simple: dict[str, Callable[[Clause, str], Pred]] = {
            "project": self.project,
            "key": self.key,
            "issuekey": self.key,
            "id": self.key,
            "labels": self.labels,
            "status": self.status,
            "statuscategory": self.category,
            "resolution": self.resolution,
            "issuetype": self.issue_type,
            "type": self.issue_type,
            "priority": self.priority,
        }
        if name.lower() in simple:
            return simple[name.lower()](c, name.lower())
        dates = {"created": "created", "createddate": "created", "updated": "updated"}
        dates |= {"updateddate": "updated", "resolved": "resolved", "resolutiondate": "resolved"}
        if not c.field_quoted and name in dates:
            return self.date(c, dates[name])
        if not c.field_quoted and name in ("summary", "description", "text"):
            return self.text(c, name, [name])
        fdefs = self.custom_fields(c.field)
        if not fdefs:
            raise JqlError(
                f"Field '{c.field}' does not exist or you do not have permission to view it."
            )
        fdefs = [f for f in fdefs if f.searchable]
        if not fdefs:  # a custom field without a search template
            raise JqlError(f"Field '{c.field}' is not searchable, it is only viewable.")
        return self.text(c, c.field, [f.id for f in fdefs], url=all(f.kind == "url" for f in fdefs))

    def custom_fields(self, ref: str) -> list[FieldDef]:
        if ref.startswith("cf["):
            fid = "customfield_" + ref[3:-1]
            return [f for f in self.state.site.fields if f.id == fid]
        return [f for f in self.state.site.fields_named(ref) if f.is_custom]

    # -- value helpers -----------------------------------------------------------------------
    def values(self, c: Clause, name: str, allowed: tuple[str, ...] = _EQ) -> list[str]:
        if c.op not in allowed:
            raise _unsupported(c.op, name)
        items = c.value if isinstance(c.value, tuple) else (c.value,)
        out: list[str] = []
        for item in items:
            if isinstance(item, Function):
                out.append(self.function(item))
            elif isinstance(item, Literal):
                out.append(item.text)
        return out

    def function(self, fn: Function) -> str:
        if fn.name.lower() == "currentuser":
            return self.state.bot.account_id
        if fn.name.lower() == "now":
            return datetime.fromtimestamp(self.now, UTC).strftime("%Y-%m-%d %H:%M")
        raise JqlError(f"Unable to find JQL function '{fn.name}({', '.join(fn.args)})'.")

    def membership(self, c: Clause, wanted: set[str], get: Callable[[SandboxIssue], str]) -> Pred:
        negate = c.op in ("!=", "not in")
        return lambda i: (get(i) in wanted) != negate

    def lookup(self, c: Clause, name: str, items: tuple[Named, ...]) -> set[str]:
        ids: set[str] = set()
        for value in self.values(c, name):
            found = [i for i in items if i.id == value or i.name.lower() == value.lower()]
            if not found:
                raise _no_value(value, name)
            ids.update(i.id for i in found)
        return ids

    # -- fields ------------------------------------------------------------------------------
    def project(self, c: Clause, name: str) -> Pred:
        keys: set[str] = set()
        for value in self.values(c, name):
            project = self.state.site.project(value) or next(
                (p for p in self.state.site.projects.values() if p.name.lower() == value.lower()),
                None,
            )
            if project is None:
                raise _no_value(value, name)
            keys.add(project.key)
        return self.membership(c, keys, lambda i: i.project_key)

    def key(self, c: Clause, name: str) -> Pred:
        ids: set[str] = set()
        for value in self.values(c, name):
            issue = self.state.issue(value)
            if issue is None:
                raise JqlError(f"An issue with key '{value}' does not exist for field '{name}'.")
            ids.add(issue.id)
        return self.membership(c, ids, lambda i: i.id)

    def labels(self, c: Clause, name: str) -> Pred:
        if isinstance(c.value, Empty):
            return self.empty(c, name, lambda i: not i.labels)
        wanted = set(self.values(c, name))
        if c.op in ("!=", "not in"):
            return lambda i: bool(i.labels) and not wanted & set(i.labels)
        return lambda i: bool(wanted & set(i.labels))

    def empty(self, c: Clause, name: str, is_empty: Pred) -> Pred:
        if c.op in ("is", "=", "in"):
            return is_empty
        if c.op in ("is not", "!=", "not in"):
            return lambda i: not is_empty(i)
        raise _unsupported(c.op, name)

    def status(self, c: Clause, name: str) -> Pred:
        ids: set[str] = set()
        statuses = self.state.workflows.all_statuses()
        for value in self.values(c, name):
            found = [s for s in statuses if s.id == value or s.name.lower() == value.lower()]
            if not found:
                raise _no_value(value, name)
            ids.update(s.id for s in found)
        return self.membership(c, ids, lambda i: i.status_id)

    def category(self, c: Clause, name: str) -> Pred:
        keys: set[str] = set()
        for value in self.values(c, "statusCategory"):
            key = next(
                (
                    k
                    for k, cat in CATEGORIES.items()
                    if value.lower() in (k, str(cat["id"]), str(cat["name"]).lower())
                ),
                None,
            )
            if key is None:
                raise _no_value(value, "statusCategory")
            keys.add(key)
        state = self.state
        return self.membership(c, keys, lambda i: state.workflow(i).status(i.status_id).category)

    def resolution(self, c: Clause, name: str) -> Pred:
        if isinstance(c.value, Empty):
            return self.empty(c, name, lambda i: i.resolution_id is None)
        ids: set[str] = set()
        for value in self.values(c, name):
            found = [r for r in RESOLUTIONS if value.lower() in (r.id, r.name.lower())]
            if not found and value.lower() != "unresolved":
                raise _no_value(value, name)
            ids.update({r.id for r in found} or {""})
        return self.membership(c, ids, lambda i: i.resolution_id or "")

    def issue_type(self, c: Clause, name: str) -> Pred:
        return self.membership(c, self.lookup(c, name, ISSUE_TYPES), lambda i: i.issue_type_id)

    def priority(self, c: Clause, name: str) -> Pred:
        ids = self.lookup(c, name, PRIORITIES)
        return self.membership(c, ids, lambda i: str(i.values.get("priority", "")))

    def date(self, c: Clause, name: str) -> Pred:
        def stamp(i: SandboxIssue) -> float | None:
            return {"created": i.created, "updated": i.updated, "resolved": i.resolved}[name]

        if isinstance(c.value, Empty):
            return self.empty(c, name, lambda i: stamp(i) is None)
        [raw] = self.values(c, name, ("=", "!=", ">", ">=", "<", "<="))
        limit = self.parse_date(raw, name)
        compare: dict[str, Callable[[float, float], bool]] = {
            "=": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
        }
        test = compare[c.op]
        return lambda i: (s := stamp(i)) is not None and test(s, limit)

    def parse_date(self, raw: str, name: str) -> float:
        periods = _PERIOD.findall(raw.replace(" ", ""))
        if periods and "".join("".join(p) for p in periods) == raw.replace(" ", ""):
            unit = {"w": 604800, "d": 86400, "h": 3600, "m": 60}
            sign = -1 if raw.strip().startswith("-") else 1
            return self.now + sign * sum(int(n) * unit[u] for _, n, u in periods)
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(raw, fmt).replace(tzinfo=UTC).timestamp()
            except ValueError:
                continue
        raise JqlError(
            f"Date value '{raw}' for field '{name}' is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
            "format e.g. '-5d', '4w 2d'."
        )

    def text(self, c: Clause, name: str, field_ids: list[str], *, url: bool = False) -> Pred:
        everything = field_ids == ["text"]
        if everything:
            texty = [f.id for f in self.state.site.fields if f.kind in ("textfield", "textarea")]
            field_ids = ["summary", "description", *texty]

        def texts(i: SandboxIssue) -> list[str]:
            out = [
                v if isinstance(v, str) else adf_text(v)
                for f in field_ids
                if (v := i.values.get(f))
            ]
            if everything:
                out += [adf_text(cm["body"]) for cm in i.comments]
            return out

        if isinstance(c.value, Empty):
            return self.empty(c, name, lambda i: not texts(i))
        allowed = ("~", "!~", "=", "!=") if url else ("~", "!~")
        [query] = self.values(c, name, allowed)
        if not query.strip():
            raise JqlError(f"The field '{name}' does not support searching for an empty string.")
        if c.op in ("=", "!="):
            return lambda i: (query in texts(i)) == (c.op == "=")
        if c.op == "~":
            return lambda i: any(fuzzy_match(query, t) for t in texts(i))
        return lambda i: not any(fuzzy_match(query, t) for t in texts(i))
