"""fate-configure: turn one party YAML into a configured FATE 1.4.5 host (target side).

Pipeline (docs/architecture.md "Target pipeline"): ``loader`` keeps line numbers,
``schema`` + ``semantic`` validate everything before any change, ``plan`` computes
files / MySQL steps / units as a pure function, ``pipeline`` applies or dry-runs it.
"""
