"""The air-gapped bundle: our RPMs + the OS closure + yum metadata + install.sh in one tarball."""

from packager.bundle.profile import Profile, load_profile
from packager.bundle.writer import BundleResult, bundle_name, write_bundle

__all__ = ["BundleResult", "Profile", "bundle_name", "load_profile", "write_bundle"]
