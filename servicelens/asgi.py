"""ASGI entry point for uvicorn workers."""

from servicelens.app import create_app

app = create_app()
