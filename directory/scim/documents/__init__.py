"""SCIM resources as stored documents: cleaning, PATCH, projection.

A resource is kept as the document the IdP last described (canonical
attribute names, booleans as booleans, no password, id or meta). PATCH
operations are applied to a copy of that document and the result is validated
and stored as a whole, so every PATCH is atomic and every form of it (pathless
with dotted keys, value filters, enterprise-extension paths) goes through one
code path. The modules, by subject:

- `cleaning`: the stored document built from a POSTed or PUT resource;
- `patch`: a PatchOp's operations applied to a copy of a document;
- `projection`: `attributes` and `excludedAttributes` applied to a rendered
  resource;
- `values`: one attribute's value checked against its definition, which
  cleaning and PATCH share;
- `messages`: the error details these answer with.

Callers import each name from the module that defines it.
"""
