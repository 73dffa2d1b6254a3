"""The el7 lint (``fate-pkg check``) and bundle verification (``fate-pkg verify``).

Library API for the build: ``check_paths(paths) -> list[Finding]`` on its own output, and
``verify_bundle(path) -> list[Finding]``. An empty list means clean.
"""

from packager.lint.check import CheckOptions, Summary, check_paths
from packager.lint.finding import Finding
from packager.lint.verify import VerifySummary, verify_bundle

__all__ = ["CheckOptions", "Finding", "Summary", "VerifySummary", "check_paths", "verify_bundle"]
