"""The office console: the staff's web app in the browser (docs/console.md).

Its own small process: server-rendered pages (Jinja2 + htmx), OIDC login against the IdP,
and every read or write through the stages' HTTP APIs with the logged-in staff's own token.
"""
