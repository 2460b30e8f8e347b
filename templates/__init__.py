"""The built-in Jinja2 templates; installed as ``generator.templates`` (see pyproject.toml)."""
