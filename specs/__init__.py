"""Data, not code: installed as ``packager._specs`` so a wheel carries it (packager.resources)."""
