"""``fate-pkg build``: from a verified artifact cache to el7 RPMs.

FATE knowledge lives in ``specs/``; this package only knows how to stage and package.
"""
