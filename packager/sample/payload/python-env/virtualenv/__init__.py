# FATE SAMPLE STAND-IN -- fate-pkg's miniature "virtualenv 20.0.18"; NOT the real virtualenv.
"""Creates a venv with the command line FATE 1.4.5's installer uses:
``virtualenv -p PYTHON --no-wheel --no-setuptools --no-download DEST``.
It runs ``PYTHON -m venv DEST`` (pip included), so DEST/bin/pip installs the wheelhouse."""

__version__ = "20.0.18"
