"""fate-pkg: turn a FATE release into CentOS 7 RPMs and an air-gapped bundle.

This file must stay importable on Python 3.6: the target side (``packager.target``)
is shipped inside the ``fate-tools`` RPM and imports this package first.
"""

__version__ = "0.1.0"
