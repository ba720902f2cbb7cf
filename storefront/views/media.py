"""Product images for everyone: ``/media/<key>`` (the stored JPEG) and ``/media/<key>/<variant>`` (thumbnails).

Any stored image key is served, not only those of listed products: the merchant portal and the admin approval
pages show pictures of drafts and pending products through the same URL (``templating.image_url``). That is
safe because a key is 128 random bits (not guessable, not enumerable), stored images were re-encoded without
metadata when uploaded, and licences and other private documents live in a separate store this route never
reads. A key's content never changes (a new upload gets a new key), so browsers may cache it for a year.
"""

from flask import abort, send_file

from marketplace.core.permissions import public
from marketplace.core.storage import image_path
from storefront import bp

ONE_YEAR = 365 * 24 * 3600


@bp.get("/media/<key>")
@bp.get("/media/<key>/<variant>")
@public
def media(key: str, variant: str = ""):
    path = image_path(key, variant)
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=ONE_YEAR, conditional=True, etag=True)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response
