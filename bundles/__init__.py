"""Data, not code: installed as ``packager._bundles`` so a wheel carries it (packager.resources)."""
