"""WSGI entry point for gunicorn: ``gunicorn wsgi:app``."""

from marketplace.app import create_app

app = create_app()
