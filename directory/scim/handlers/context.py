"""What every SCIM handler takes: the directory and the request around it."""

from collections.abc import Callable
from dataclasses import dataclass

from directory.models import Directory, DirectoryRequest
from progression.rows import ChainCheck


@dataclass(frozen=True)
class Context:
    directory: Directory
    base_url: str
    attributes: str | None = None
    excluded: str | None = None
    # The request log entry for a given answer, unsaved, for a handler that
    # can write it in the statement making the change.
    log: Callable[[int], DirectoryRequest] | None = None
    # Set when `directory` was read by an earlier request: a create's
    # statement checks that it is unchanged (see `directory.scim.auth`).
    check: ChainCheck | None = None
