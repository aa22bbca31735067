"""The SCIM 2.0 operations on one directory's Users and Groups.

Each handler takes the authenticated directory and the parsed request and
returns `(status, payload)` in SCIM 2.0 form; the views render it, and
the SCIM 1.1 layer translates it. Every query starts from the directory, so
tenancy is a SQL predicate (`directory_id = ...`), never a Python loop. The
modules, by subject:

- `users`: list, search, read, create, replace, patch and delete Users;
- `groups`: the same for Groups, with their members;
- `context`: the `Context` every handler takes: the directory, the base URL,
  the projection asked for and what a create writes along;
- `messages`: the error details the handlers answer with.

Callers import each name from the module that defines it.
"""
