"""shmtop: see, understand and safely clean up a Linux host's IPC objects."""

__version__ = "0.2.0"
