"""The worker process: consumes Folio's RabbitMQ work queues and relays the outbox to the broker.

``python -m folio.entrypoints.worker`` (``folio up`` runs ``messaging.replicas`` of
them). It only assembles: the platform from ``folio.bootstrap``, the handlers every
context registers (``registrars.REGISTRARS``), ``folio.messaging``'s ``Worker`` with their
periodic jobs each under its lock, and its ``OutboxRelay`` under a lock so one replica
relays at a time.
"""
