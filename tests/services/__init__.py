"""Tests of the model services and the router."""
