"""Server-rendered Chinese pages (Jinja2 templates in registry/templates)."""
