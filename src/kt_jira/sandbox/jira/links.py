"""Issue links of the simulated Jira: the seeded link types and the links between issues.

A link reads "inward <outward description> outward", as ``POST /issueLink`` takes it: a Blocks
link with inwardIssue A and outwardIssue B means A blocks B. Each issue shows the other one
under the role it has in the link (B lists A as ``inwardIssue``, A lists B as
``outwardIssue``). Pure data; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LinkType:
    """One entry of ``GET /issueLinkType``."""

    id: str
    name: str
    inward: str
    outward: str


LINK_TYPES: tuple[LinkType, ...] = (
    LinkType("10000", "Blocks", "is blocked by", "blocks"),
    LinkType("10001", "Cloners", "is cloned by", "clones"),
    LinkType("10002", "Duplicate", "is duplicated by", "duplicates"),
    LinkType("10003", "Relates", "relates to", "relates to"),
)


def find_link_type(value: object) -> LinkType | None:
    """A link type by ``{"id": ...}`` or ``{"name": ...}`` (names match case-insensitively)."""
    if not isinstance(value, dict):
        return None
    if "id" in value:
        return next((t for t in LINK_TYPES if t.id == str(value["id"])), None)
    name = value.get("name")
    if isinstance(name, str):
        return next((t for t in LINK_TYPES if t.name.lower() == name.lower()), None)
    return None


@dataclass(frozen=True)
class IssueLink:
    """A stored link between two issues, by issue id."""

    id: str
    type: LinkType
    inward_id: str
    outward_id: str


@dataclass
class IssueLinks:
    """Every link of the site. Linking a pair again with the same type adds nothing."""

    links: list[IssueLink] = field(default_factory=list)
    next_id: int = 10200

    def add(self, link_type: LinkType, inward_id: str, outward_id: str) -> IssueLink:
        """The link of ``link_type`` from ``inward_id`` to ``outward_id``, made if new."""
        for link in self.links:
            if (link.type, link.inward_id, link.outward_id) == (link_type, inward_id, outward_id):
                return link
        link = IssueLink(str(self.next_id), link_type, inward_id, outward_id)
        self.next_id += 1
        self.links.append(link)
        return link

    def of(self, issue_id: str) -> list[IssueLink]:
        """The links ``issue_id`` takes part in, oldest first."""
        return [link for link in self.links if issue_id in (link.inward_id, link.outward_id)]

    def drop(self, issue_id: str) -> None:
        """Forget every link of a deleted issue."""
        self.links = [k for k in self.links if issue_id not in (k.inward_id, k.outward_id)]
