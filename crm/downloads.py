"""A file sent to the browser to keep: its Chinese name for browsers that read RFC 5987 (all current ones), and a
plain ASCII name that still says what it is for the rest (Flask's own fallback drops every Chinese character:
"企业名单-20261130.xlsx" would arrive as "-20261130.xlsx")."""
from urllib.parse import quote

from flask import Response


def attachment(data: bytes, mimetype: str, name: str, ascii_name: str) -> Response:
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"})
