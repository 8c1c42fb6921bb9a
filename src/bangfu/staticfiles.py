"""Static files in production: WhiteNoise's hashed, compressed copies, made by `bangfu collectstatic`."""

from typing import Any

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage


class _Compressor(Compressor):
    """Brotli at quality 9: the default 11 takes forty times as long (20 s of CPU for the API docs' and the
    charts' bundles) for files under a tenth smaller."""

    @staticmethod
    def compress_brotli(data: bytes) -> bytes:
        import brotli  # optional: WhiteNoise calls this only when brotli is installed (else gzip alone)

        return bytes(brotli.compress(data, quality=9))


class HashedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Pages name only the hashed copies, so only those are kept and compressed; source maps are for developers
    and are not compressed."""

    keep_only_hashed_files = True

    # Vendored minified files name source maps that are not shipped (bootstrap.min.css.map): leave those comments
    # alone instead of failing on the missing file.
    patterns = tuple(
        (glob, tuple(p for p in rules if "sourceMappingURL" not in str(p)))
        for glob, rules in ManifestStaticFilesStorage.patterns
    )

    def create_compressor(self, **kwargs: Any) -> Compressor:
        return _Compressor(**{**kwargs, "extensions": (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")})
