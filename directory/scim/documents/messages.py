"""The error details of cleaning a resource and applying PATCH to it."""

INVALID_VALUE = "The value for {name!r} is not valid."
NO_TARGET = "A remove operation needs a path."
OPERATION_INVALID = "Each operation needs an op of add, remove or replace."
OPERATIONS_REQUIRED = "A PATCH request needs a list of Operations."
READ_ONLY_ATTRIBUTE = "The attribute {name!r} cannot be changed."
NO_MATCH = "No value matches the path {path!r}."
