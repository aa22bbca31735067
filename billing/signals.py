"""Announcements other apps listen to, so billing never imports them.

`entitlement_changed` is sent with `organization` and `entitlement` (a
`billing.entitlements.Entitlement`) after a commit that made SSO and Directory
Sync available or unavailable, and when a term end does so. Receivers suspend
connections and directories (never delete them) when `available` is False and
resume them as they were when it is True. It is sent once per change.
"""

from django.dispatch import Signal

entitlement_changed = Signal()
