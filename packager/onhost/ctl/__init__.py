"""``fate-ctl``: operate the FATE services of this host (status, logs, toy, doctor).

Runs on the target (Python 3.6, stdlib + vendored PyYAML/jinja2). Everything it knows about
the services comes from units/services.yaml via :mod:`packager.onhost.services`, and
everything about this host from the env files fate-configure wrote (/etc/fate/env).
"""
