"""Tasks: a shop's to-do board, served by the API (v1, v2) and the staff web app alike.

Key contracts: one service (``folio.tasks.api``) behind every adapter; customers see
only tasks they created or are assigned; another shop's task is "not found".
"""
