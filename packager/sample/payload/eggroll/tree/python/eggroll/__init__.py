# FATE SAMPLE STAND-IN -- eggroll 2.0.2's python client, reduced to what the sample uses.
__version__ = "2.0.2"
