"""The service catalogue and unit templates, installed as ``packager.onhost.units``.

The folder stays at the top of the repository; setuptools maps it into the on-host package,
so the ``fate-tools`` RPM and a wheel both carry it beside the code that reads it. This
file must stay importable on Python 3.6.
"""

import os

#: The directory holding services.yaml and the templates.
DIR = os.path.dirname(os.path.abspath(__file__))
