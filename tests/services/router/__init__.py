"""Router tests: real processes on loopback."""
