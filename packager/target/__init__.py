"""Target side: code that runs on the CentOS 7 host (Python 3.6, no network).

Shipped in the ``fate-tools`` RPM with its vendored libraries. It must not import
anything from the build side (``packager.*`` outside ``packager.target``), and it
must pass ``vermin --target=3.6``.
"""
