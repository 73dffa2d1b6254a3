#!/bin/bash
# FATE SAMPLE STAND-IN -- eggroll's process launcher for egg_pair/roll_pair processes.
# The sample's nodemanager records processors instead of launching them.
echo "roll_pair_master_bootstrap.sh: not used by the FATE sample release" >&2
exit 1
