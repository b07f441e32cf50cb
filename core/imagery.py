"""Imagery for apps that may not import `tiles` (ARCHITECTURE.md): the layers a user may see and a map
image of a box. `tiles` registers its provider when the app is ready; without one there is no imagery
(nothing breaks: maps draw without it)."""

from typing import Any, Protocol


class ImageryProvider(Protocol):
    def layers(self, user: Any) -> list[dict[str, Any]]: ...

    def county_png(self, county: str, box: tuple[float, float, float, float], width: int, height: int) -> bytes | None:
        """The county's imagery for a lon/lat box (EPSG:4490) as a PNG of width × height, or None."""
        ...


_provider: ImageryProvider | None = None


def register_imagery_provider(provider: ImageryProvider) -> None:
    global _provider
    _provider = provider


def imagery_layers(user: Any) -> list[dict[str, Any]]:
    return _provider.layers(user) if _provider else []


def county_imagery_png(county: str, box: tuple[float, float, float, float], width: int, height: int) -> bytes | None:
    return _provider.county_png(county, box, width, height) if _provider else None
