"""Which imagery layers a user may see, for the map page (the tiles themselves are checked in imagery.access)."""

from typing import Any

from django.db.models import Q

from accounts.scoping import scope_prefixes
from core.codes import county_of

from .mapproxy import imagery_root, native_zoom
from .models import Imagery


def imagery_visible(user: Any) -> list[dict[str, Any]]:
    """Layers of the counties the user's offices lie in, and the public ones; newest first."""
    counties = {county_of(p) for p in scope_prefixes(user)}
    rows = Imagery.objects.filter(Q(county__code__in=counties) | Q(public=True)).order_by("-acquired_on", "name")
    out = []
    for image in rows:
        cog = imagery_root() / image.cog_path
        if not cog.exists():
            continue
        x0, y0, x1, y1 = image.footprint.extent
        out.append(
            {
                "name": image.name,
                "title": image.title + (f"（{image.acquired_on:%Y-%m}）" if image.acquired_on else ""),
                "url": f"/imagery/wmts/{image.name}/webmercator/{{z}}/{{x}}/{{y}}.png",
                "bounds": [[y0, x0], [y1, x1]],
                "maxNativeZoom": native_zoom(cog),
            }
        )
    return out
