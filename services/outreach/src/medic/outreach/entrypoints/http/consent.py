"""HTTP API: consent (being built)."""

from fastapi import APIRouter

router = APIRouter(tags=["consent"])
