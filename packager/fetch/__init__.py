"""Download release artifacts into a verified, content-addressed cache."""
