"""An RPM writer for CentOS 7 (rpm 4.11.3), with no rpmbuild: knows nothing about FATE."""

from packager.rpm.compress import Compression
from packager.rpm.model import Dependency, FileEntry, Package, Script
from packager.rpm.reader import read_rpm
from packager.rpm.sign import Signer
from packager.rpm.writer import BuildError, BuildResult, build_rpm

__all__ = [
    "BuildError", "BuildResult", "Compression", "Dependency", "FileEntry", "Package", "Script",
    "Signer", "build_rpm", "read_rpm",
]
