"""The namespaces of a host: where objects live (IPC namespaces, /dev/shm instances), which
container each belongs to, and running kernel calls inside another IPC namespace."""
