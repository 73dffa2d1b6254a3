"""Staging: turn cached artifacts into the file trees that go into RPMs."""
