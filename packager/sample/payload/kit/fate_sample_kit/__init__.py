# FATE SAMPLE STAND-IN -- part of fate-pkg's miniature FATE 1.4.5 release, not WeBank code.
"""Helpers shared by the sample's stand-in services (config, logging, HTTP, peers).

The same package is shipped three times, as the real code is: inside the eggroll jars,
inside fateboard.jar, and as a wheel in the pip bundle for fate_flow's venv.
"""

__version__ = "1.4.5"
