"""Who uses each object: a scan of /proc, matched on (device, inode). No UI imports."""

from shmtop.attach.finders import ProcessFinder
from shmtop.attach.scan import scan_attachers, used_by

__all__ = ["ProcessFinder", "scan_attachers", "used_by"]
