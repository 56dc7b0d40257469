"""Serving the stored images from Cosign itself, when they are local files (MEDIA_STORAGE=local,
the default): in development, in the tests' live server and in production alike.

Only names mechanisms.images writes are served (a content hash and a width, `.jpg`), always as
`image/jpeg`: no other file under MEDIA_ROOT, no path of the request's choosing, no type guessed
from a name. Names change with the content, so browsers may keep a file for a year. With an S3
store the pages link to the bucket (or its domain) and this view is not used.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from mechanisms.images import FOLDER, NAME


@require_safe
def image_file(request: HttpRequest, name: str) -> FileResponse:
    stored = f"{FOLDER}/{name}"
    if not NAME.fullmatch(stored):
        raise Http404
    try:
        handle = default_storage.open(stored, "rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(handle, content_type="image/jpeg")
    patch_cache_control(response, public=True, max_age=365 * 24 * 3600, immutable=True)
    return response
