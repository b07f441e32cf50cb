"""What tiles offers the apps that may not import it (core.ports): the layers a user may see, and a
county's mosaic for a box through MapProxy's WMS (for printed maps)."""

from typing import Any
from wsgiref.util import setup_testing_defaults

from .models import Imagery
from .selectors import imagery_visible


class TilesImagery:
    def layers(self, user: Any) -> list[dict[str, Any]]:
        return imagery_visible(user)

    def county_png(self, county: str, box: tuple[float, float, float, float], width: int, height: int) -> bytes | None:
        """The county mosaic from MapProxy's WMS 1.1.1 in EPSG:4490 (lon/lat order), or None without imagery."""
        if not Imagery.objects.filter(county__code=county).exists():
            return None
        from .views import call_mapproxy

        environ: dict[str, Any] = {}
        setup_testing_defaults(environ)
        environ["PATH_INFO"] = "/service"
        environ["QUERY_STRING"] = (
            f"SERVICE=WMS&VERSION=1.1.1&REQUEST=GetMap&LAYERS={county}-mosaic&STYLES=&SRS=EPSG:4490"
            f"&BBOX={box[0]},{box[1]},{box[2]},{box[3]}&WIDTH={width}&HEIGHT={height}"
            "&FORMAT=image/png&TRANSPARENT=true"
        )
        status, headers, body = call_mapproxy(environ)
        kind = {k.lower(): v for k, v in headers}.get("content-type", "")
        return body if status == 200 and kind.startswith("image/png") else None
