"""The control of the HTTP benchmarks: a Flask hello-world, served the same way as the application.

``gunicorn bench._hello_wsgi:app``. Its requests/s on the same machine, in the same run, tell a slower
application from a busier machine (DESIGN.md measured ~5,600 req/s here).
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
