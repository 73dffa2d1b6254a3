"""On-host tools: code that runs on the CentOS 7 host (Python 3.6, no network).

Shipped alone in the ``fate-tools`` RPM, with its data (templates, the service catalogue
in ``units``) and the vendored libraries. It imports nothing from the build side
(``packager.*`` outside ``packager.onhost``; tests/onhost/test_boundary.py fails on such an
import) and passes ``vermin --target=3.6``.
"""

__version__ = "0.1.0"
