"""``fate-deploy``: a whole party from one control host, on Ansible.

On-host side code (Python 3.6, no build-side import): it reads the party YAML with
fate-configure's loader, plans which host gets which RPMs and services from the service
catalogue, writes plain Ansible files (inventory, playbook, roles) and runs
``ansible-playbook``. Every host is driven through the bundle's ``install.sh``,
``fate-configure`` and ``fate-ctl``; nothing here works around them.
"""
