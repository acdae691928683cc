"""HTTP API: safeguarding (being built)."""

from fastapi import APIRouter

router = APIRouter(tags=["safeguarding"])
