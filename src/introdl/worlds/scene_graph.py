"""A scene graph: a tree of typed nodes, each with numeric attributes.

The scene grammar (:mod:`introdl.worlds.grammar`) produces these trees and the renderer
(:mod:`introdl.worlds.scene_render`) draws them. A node is a ``kind`` (``"scene"``,
``"road"``, ``"lane"``, ``"car"``, ...), a flat ``attrs`` dict of floats (position, size,
colour, ...) and ordered ``children``; the tree is the derivation of the grammar, so the
structure (how many lanes, how many cars in each) can be read back from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Node:
    """One node of a scene graph: a kind, float attributes and child nodes."""

    kind: str
    attrs: dict[str, float] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)

    def walk(self) -> Iterator[Node]:
        """Every node of the subtree, pre-order (this node first, then each child's subtree)."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def find(self, kind: str) -> list[Node]:
        """The nodes of the subtree with this kind, in pre-order."""
        return [n for n in self.walk() if n.kind == kind]

    def copy(self) -> Node:
        """A deep copy (attribute dicts and child lists are new objects)."""
        return Node(self.kind, dict(self.attrs), [c.copy() for c in self.children])

    def add(self, child: Node) -> Node:
        """Append ``child`` and return it (for building trees top-down)."""
        self.children.append(child)
        return child

    def __len__(self) -> int:  # number of nodes in the subtree
        return sum(1 for _ in self.walk())

    def pretty(self, indent: int = 0) -> str:
        """A readable multi-line dump of the tree (attributes to 2 decimals)."""
        attrs = ", ".join(f"{k}={v:.2f}" for k, v in self.attrs.items())
        lines = [" " * indent + f"{self.kind}({attrs})"]
        lines += [c.pretty(indent + 2) for c in self.children]
        return "\n".join(lines)
