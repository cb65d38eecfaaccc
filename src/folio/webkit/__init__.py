"""Web-app plumbing every context's ``web`` adapter shares: the loop portal, the signed-in caller, forms.

Contexts keep their Flask views in ``<context>/web.py``; ``folio.entrypoints.web``
only assembles the blueprints into the web app. Keep this package to plumbing: no
domain logic.
"""
