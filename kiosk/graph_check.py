"""The build-time check both screen tables share (the resident's in `kiosk/states.py`,
staff's in `kiosk/maintenance/screen_graph.py`): no screen a person cannot reach,
none a person cannot leave."""
from __future__ import annotations

from typing import Hashable, Iterable, Mapping, Protocol


class DeclaresTargets(Protocol):
    targets: Iterable[Hashable]


def _reachable(edges: Mapping[Hashable, set], start: Hashable) -> set:
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def graph_gaps(table: Mapping[tuple, DeclaresTargets], nodes: Iterable[Hashable], start: Hashable,
               home: Hashable) -> tuple[set, set]:
    """(nodes not reachable from `start`, nodes with no way to `home`), through the
    targets each row of `table` (keyed by (node, event kind)) declares."""
    forward: dict[Hashable, set] = {}
    backward: dict[Hashable, set] = {}
    for (node, _event), row in table.items():
        for target in row.targets:
            forward.setdefault(node, set()).add(target)
            backward.setdefault(target, set()).add(node)
    nodes = set(nodes)
    return nodes - _reachable(forward, start), nodes - _reachable(backward, home)
