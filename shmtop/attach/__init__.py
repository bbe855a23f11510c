"""Who uses each object: a scan of /proc, matched on (device, inode). No UI imports."""

from shmtop.attach.scan import scan_attachers, used_by

__all__ = ["scan_attachers", "used_by"]
