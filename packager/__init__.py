"""fate-pkg: turn a FATE release into CentOS 7 RPMs and an air-gapped bundle.

The build side is everything here but ``packager.onhost``, the on-host tools, which are
shipped alone in the ``fate-tools`` RPM (``packager`` is a namespace package there) and
carry the one version string of the project.
"""

from packager.onhost import __version__

__all__ = ["__version__"]
