"""The user-facing messages of the organisation, people and team services.

Tests import these rather than repeating the text.
"""

EMAIL_INVALID = "Enter a valid email address."
EMAIL_TAKEN = "Someone already uses this email address."
NAME_REQUIRED = "Enter a name."
TEAM_NAME_TAKEN = "There is already a team with this name."
POSITION_NAME_TAKEN = "This team already has a position with this name."
TEAM_OTHER_ORGANIZATION = "That team does not belong to this organisation."
POSITION_OTHER_TEAM = "That position does not belong to the person's team."
MANAGER_OTHER_ORGANIZATION = "That manager does not belong to this organisation."
MANAGER_SELF = "A person cannot be their own manager."
MANAGER_LOOP = "That manager reports to this person, which would make a loop."
MANAGER_ARCHIVED = "That manager is archived."
LAST_ADMIN = "An organisation needs at least one active admin."
SLUG_INVALID = "A slug has lowercase letters, digits and hyphens only."
SLUG_TAKEN = "Another organisation already uses this slug."
DOMAIN_INVALID = "Enter a domain such as example.com."
DOMAIN_TAKEN = "Another organisation already uses this email domain."
