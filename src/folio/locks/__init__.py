"""Distributed locks: Redlock over independent Redis instances, fencing tokens, renewed leases."""
