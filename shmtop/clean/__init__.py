"""Removing objects safely and finding leaked ones (no UI).

`identity`: what must not have changed between seeing an object and removing it.
`stale`: whether an object looks leaked, always with the reasons.
`remove`: the identity-checked removal, its backup and its audit record.
"""
