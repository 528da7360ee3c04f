"""Contracts shared by every deployable: metric names and the built-in checks, the router's
admin body, model metadata, the chat template, the request-id rule, environment parsing,
the bento model lookup and logging.

The bottom layer: modules here import the standard library, a few small libraries and each
other, never another canaria package (``.importlinter`` enforces it), so a service image
ships this package whole and nothing else of the operator or of training.
"""
