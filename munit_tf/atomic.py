"""Folders that appear whole or not at all: stage beside the target, then rename into place.

A dataset or a SavedModel version is written into a hidden sibling (``.NAME.tmp-PID-XXXX``) and
renamed to ``NAME`` only when complete; a folder being replaced is first renamed aside
(``.NAME.old-PID-XXXX``), so at every instant ``NAME`` is either the old whole folder, the new
whole folder, or absent. TF Serving only loads numeric version folders, so it never sees either
hidden name. A process killed midway leaves its hidden sibling behind; the next run for the same
target removes every sibling whose owning process is gone (same machine), and never touches
a live one.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid


def _leftovers(parent: str, name: str | None):
    """Hidden staging/aside folders in ``parent`` for target ``name`` (any target if None)."""
    name_pattern = re.escape(name) if name is not None else ".+"
    pattern = re.compile(rf"^\.{name_pattern}\.(tmp|old)-(\d+)-[0-9a-f]+$")
    if not os.path.isdir(parent):
        return
    for entry in os.listdir(parent):
        match = pattern.match(entry)
        if match:
            yield os.path.join(parent, entry), int(match.group(2))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale(target: str, any_name: bool = False) -> list[str]:
    """Delete what killed runs left beside ``target`` (for every target in its folder with
    ``any_name``, as for timestamped versions); returns the removed paths."""
    parent, name = os.path.split(os.path.abspath(target))
    removed = []
    for path, pid in _leftovers(parent, None if any_name else name):
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def staging_dir(target: str, any_name: bool = False) -> str:
    """A new, empty hidden sibling of ``target`` to write into (stale ones are cleaned first)."""
    remove_stale(target, any_name)
    parent, name = os.path.split(os.path.abspath(target))
    os.makedirs(parent, exist_ok=True)
    path = os.path.join(parent, f".{name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    os.makedirs(path)
    return path


def publish(staging: str, target: str) -> None:
    """Move the finished ``staging`` folder to ``target``, replacing an existing one by renames
    only."""
    target = os.path.abspath(target)
    aside = None
    if os.path.lexists(target):
        parent, name = os.path.split(target)
        aside = os.path.join(parent, f".{name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        os.rename(target, aside)
    os.rename(staging, target)
    if aside:
        shutil.rmtree(aside, ignore_errors=True)
