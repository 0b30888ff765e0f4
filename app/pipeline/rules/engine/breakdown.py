"""What each node of a rule tree does to a rule set's candidates: the editor's per-condition and
per-group counts.

Every node is addressed by its path of indices into nested `conditions` ("" is the root,
"1.0" the first member of the second member). For each node, among the candidates (the tracks
of the rule set's sources):

* `matches`: the tracks it matches on its own (its own negation applied);
* `removes`: in an `and` group, the tracks the other members keep and this one drops — what
  deleting it would bring back into the group;
* `adds`: in an `or` group, the tracks only this member brings in — what deleting it would
  take out of the group.

Both are measured against the parent's combination before the parent's own `not`: they say
what a member does to its group; the group's own line says what the group does in turn. The
root's `removes` is every candidate the rules drop (the preview's `removed.rules`).

Masks come from the compiled tree over the library's columns (the condition masks are the
engine's cached ones), combined with prefix and suffix ANDs/ORs, so a group of n members
costs O(n) mask operations, never a pass per track.

    counts = node_counts(compile_tree(rules, …), columns, candidates)
    [(c.path, c.matches, c.removes) for c in counts]   # [("", 40, 80), ("0", 60, 20), …]
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.core.rules import RuleGroup
from app.pipeline.rules.library.columns import Columns
from app.pipeline.rules.nodes import ConditionNode, GroupNode, Node
from app.pipeline.rules.text.printer import format_rules

__all__ = ["NodeCount", "node_counts"]


class NodeCount(BaseModel):
    """One node of the rule tree and what it does among the candidates."""

    path: str = Field(
        description='Indices into nested `conditions`, dot-separated: "" is the root group, '
        '"1.0" the first member of the second.'
    )
    kind: Literal["group", "condition"]
    text: str = Field(
        description='A condition in the text syntax (`energy >= 0.5`); a group as "all of", '
        '"any of", "not all of" or "not any of".'
    )
    matches: int = Field(description="Candidates it matches on its own (with its own `not`).")
    removes: int = Field(
        description="In an `and` group: candidates the other members keep and this one drops "
        "(deleting it brings them back). The root: every candidate the rules drop. Else 0."
    )
    adds: int = Field(
        description="In an `or` group: candidates only this member brings in (deleting it "
        "loses them). Else 0."
    )


def _members(node: GroupNode, columns: Columns, candidates: int) -> list[int]:
    return [child.mask(columns) & candidates for child in node.children]


def _text(node: Node) -> str:
    if isinstance(node, GroupNode):
        words = "all of" if node.group.operator == "and" else "any of"
        return f"not {words}" if node.group.negate else words
    if isinstance(node, ConditionNode):
        try:
            return format_rules(RuleGroup(conditions=[node.condition]))
        except ValueError:  # a value the text cannot hold; validation names it
            return f"{node.condition.field} {node.condition.operator.value}"
    return ""


def node_counts(root: Node, columns: Columns, candidates: int) -> list[NodeCount]:
    """Each node's counts, the root first, then depth first in the tree's order."""
    matched = root.mask(columns) & candidates
    counts = [
        NodeCount(
            path="",
            kind="group" if isinstance(root, GroupNode) else "condition",
            text=_text(root),
            matches=matched.bit_count(),
            removes=(candidates ^ matched).bit_count(),
            adds=0,
        )
    ]
    if isinstance(root, GroupNode):
        _walk(root, "", columns, candidates, counts)
    return counts


def _walk(
    group: GroupNode, path: str, columns: Columns, candidates: int, out: list[NodeCount]
) -> None:
    masks = _members(group, columns, candidates)
    is_and = group.group.operator == "and"
    neutral = candidates if is_and else 0
    # before[i] combines masks[:i], after[i] masks[i+1:]: "the others" of i without n² work.
    before = [neutral]
    for mask in masks[:-1]:
        before.append(before[-1] & mask if is_and else before[-1] | mask)
    after = [neutral] * len(masks)
    for index in range(len(masks) - 2, -1, -1):
        nxt = masks[index + 1]
        after[index] = after[index + 1] & nxt if is_and else after[index + 1] | nxt
    for index, (child, mask) in enumerate(zip(group.children, masks, strict=True)):
        others = before[index] & after[index] if is_and else before[index] | after[index]
        child_path = f"{path}.{index}" if path else str(index)
        out.append(
            NodeCount(
                path=child_path,
                kind="group" if isinstance(child, GroupNode) else "condition",
                text=_text(child),
                matches=mask.bit_count(),
                removes=(others & (candidates ^ mask)).bit_count() if is_and else 0,
                adds=0 if is_and else (mask & (candidates ^ others)).bit_count(),
            )
        )
        if isinstance(child, GroupNode):
            _walk(child, child_path, columns, candidates, out)
