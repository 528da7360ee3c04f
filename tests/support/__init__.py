"""Helpers shared by the test suite: free ports and real processes stopped by PID."""
