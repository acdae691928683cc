"""HTTP API: erasure (being built)."""

from fastapi import APIRouter

router = APIRouter(tags=["erasure"])
