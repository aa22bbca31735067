"""Every write to organisations, people, teams and positions goes through here.

Each service validates its input, refuses what would cross organisations, makes
the change in one transaction and records an audit event for it. Views,
commands, SCIM adapters and tasks call these; none of them writes the models
directly. The modules, by subject:

- `organizations`: create an organisation and claim its email domains;
- `people`: a person's life: create, change, archive and reactivate;
- `bulk`: set-based forms of the people services, for syncs that change
  thousands of people at once, and the row writers they use;
- `teams`: teams and their positions;
- `audit`: who acted, and the record of each change;
- `sessions`: clearing expired sessions;
- `messages`: the user-facing messages the services raise.

Callers import each name from the module that defines it.
"""
