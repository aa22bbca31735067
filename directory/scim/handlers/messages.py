"""The error details the SCIM handlers answer with.

Tests import these rather than repeating the text.
"""

USER_NAME_REQUIRED = "A user needs a userName."
DISPLAY_NAME_REQUIRED = "A group needs a displayName."
GROUP_NAME_TAKEN = "This directory already has a group with this displayName."
MEMBER_UNKNOWN = "No user with the id {value!r} exists in this directory."
PAGING_INVALID = "startIndex and count must be integers."
SCHEMA_PATCH_REQUIRED = "A PATCH request must use the PatchOp schema."
SCHEMA_SEARCH_REQUIRED = "A search request must use the SearchRequest schema."
