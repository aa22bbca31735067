"""The portal shell: sign-in, people, teams, positions and the audit log.

Every query here is scoped to the signed-in person's organisation; an object of
another organisation is looked up through that scope and so answers 404. The
modules, by page:

- `signin`: sign-in by email or password, and sign-out;
- `home`: the admin's dashboard, a member's own profile;
- `people`: the People page and each person's page;
- `teams`: teams and their positions;
- `audit`: the audit log.
"""
