"""Reactions to the core's signals: a change to people queues link resolution."""

from django.dispatch import receiver

from directory.links_queue import links_request_on_commit
from progression.signals import people_links_changed


@receiver(people_links_changed, dispatch_uid="directory.links_changed")
def people_links_changed_queue(sender, organization_id, user_ids=None, **kwargs):
    """Queue a coalesced run for the organisation once the change commits."""
    links_request_on_commit(
        organization_id=organization_id,
        user_ids=None if user_ids is None else list(user_ids),
    )
