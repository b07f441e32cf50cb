"""The titiler peer of bench/features_imagery.py: titiler.core's COG tiler, as its documentation shows it."""

from fastapi import FastAPI
from titiler.core.factory import TilerFactory

app = FastAPI(title="titiler (benchmark peer)")
app.include_router(TilerFactory().router, prefix="/cog")
