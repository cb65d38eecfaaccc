"""Usage metering and quotas per shop: what billing counts and what a plan allows.

Key contracts: ``enforce_quota`` raises ``QuotaExceededError`` (403 ``quota-exceeded``)
before a change would exceed a shop's limit; ``record_usage`` adds to the day's meter.
"""
