"""Signed, expiring, single-asset URLs: how Runware fetches our inputs without a session.

With media in an S3 bucket the URL is a presigned GET of the bucket itself (Runware fetches from the
bucket, not through this server); on local disk it is a token URL under PUBLIC_BASE_URL.
"""

from pathlib import Path

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from animate import storage as media_storage
from animate.models import Asset

SIGNED_SALT = "animate.media.signed-asset"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SIGNED_SALT)


def asset_signed_url(*, asset: Asset, expires_in: int = 3600) -> str:
    """An absolute URL that serves this one asset's file, without a session: under PUBLIC_BASE_URL, or
    a presigned GET when the file is in a bucket.

    The token binds the asset id and its content hash, so it can never serve other bytes, and carries
    its own lifetime, checked against the signing time.
    """
    if media_storage.is_s3(asset.file.storage):
        return media_storage.presigned_get(
            asset.file.name,
            expires_in=expires_in,
            content_type=asset.content_type,
            storage=asset.file.storage,
        )
    token = _signer().sign_object({"a": asset.pk, "h": asset.sha256[:32], "t": int(expires_in)})
    filename = f"{asset.kind}{Path(asset.file.name).suffix}"
    path = reverse("media-signed", kwargs={"token": token, "filename": filename})
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}"


def asset_for_signed_token(token: str) -> Asset | None:
    """The asset a valid, unexpired token grants, else None."""
    signer = _signer()
    try:
        # The lifetime lives inside the signed payload: read it once the signature is proven, then
        # check the signing time against it.
        lifetime = int(signer.unsign_object(token)["t"])
        payload = signer.unsign_object(token, max_age=lifetime)
        asset_id, digest = int(payload["a"]), str(payload["h"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    asset = Asset.objects.filter(pk=asset_id).first()
    if asset is None or not constant_time_compare(asset.sha256[:32], digest):
        return None
    return asset
