"""Thin process entry points: the CLI, the HTTP gateway and (later) servers and workers."""
