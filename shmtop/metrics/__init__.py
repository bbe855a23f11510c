"""Prometheus metrics: what a snapshot and its leak verdicts come to, as a few bounded
families (no UI, no kernel access of its own beyond collecting).

`families`: the families of one or more namespaces' snapshots; `exposition`: the text format;
`scrape`: one collection made into text, with the exporter's own counters; `cache`: at most
one collection per interval, shared by concurrent scrapes; `server`: the read-only HTTP
endpoint; `textfile`: the atomic write for node_exporter's textfile collector.
"""

MAX_LEAK_SERIES = 1000  # the most series per leaked object a scrape may carry (here: cheap
#                         to import for the CLI's arguments)
