"""Signals the core sends so that feature apps can react without being imported.

`people_links_changed` is sent inside the writing transaction whenever a change
may alter how people link to managers, teams and positions: a person created,
edited, archived or reactivated, a team or position created, renamed or
deleted. Arguments: `organization_id`, and `user_ids` (the people changed, or
None when the change concerns the whole organisation). Receivers that start
work should do so with `transaction.on_commit`.
"""

from django.dispatch import Signal

people_links_changed = Signal()
