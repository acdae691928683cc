"""HTTP API: mentoring (being built)."""

from fastapi import APIRouter

router = APIRouter(tags=["mentoring"])
