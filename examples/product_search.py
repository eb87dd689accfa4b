#!/usr/bin/env python3
"""A small "product search" HTTP service over a SQLite file: the walkthrough of docs/profiles.md.

    python3 product_search.py init-db products.db
    python3 product_search.py serve --db products.db --port 8080

GET /health (with the server's pid), GET /search?q=TEXT, GET /products/ID answer JSON. The service only ever *reads* its
database (opened read-only). Standard library only.

``--with-injected-paths`` adds three routes that stand for code an attacker injected (an RCE in a
dependency, say): ``/_injected/write-db`` writes to the database, ``/_injected/write-tmp?path=P``
writes a file, ``/_injected/connect?port=N`` connects to 127.0.0.1:N. Each answers
``{"ok": true}`` or ``{"ok": false, "errno": N, "error": "..."}`` with the kernel's error, so a
test (or you) can see what a runtime profile lets through. They are not exercised while learning.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PRODUCTS = [
    ("Desk lamp", "LED desk lamp with a flexible arm", 2499),
    ("Floor lamp", "Tall reading lamp, warm white", 5999),
    ("Office chair", "Ergonomic chair with lumbar support", 18900),
    ("Standing desk", "Electric height-adjustable desk", 39900),
    ("Monitor arm", "Gas spring arm for one monitor", 8900),
    ("Keyboard", "Mechanical keyboard, brown switches", 10900),
    ("Mouse", "Wireless mouse, silent clicks", 3900),
    ("Headphones", "Closed-back studio headphones", 12900),
    ("Webcam", "1080p webcam with a privacy shutter", 6900),
    ("Desk mat", "Felt desk mat, 90 x 40 cm", 2900),
]


def init_db(path: str) -> None:
    if os.path.exists(path):
        os.unlink(path)
    con = sqlite3.connect(path)
    with con:
        con.execute("CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                    "description TEXT NOT NULL, price_cents INTEGER NOT NULL)")
        con.executemany("INSERT INTO products (name, description, price_cents) VALUES (?, ?, ?)", PRODUCTS)
    con.close()


class Service:
    def __init__(self, db: str, injected: bool) -> None:
        self.db = os.path.abspath(db)
        self.injected = injected
        self.uri = f"file:{self.db}?mode=ro"

    def query(self, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        con = sqlite3.connect(self.uri, uri=True)
        try:
            con.row_factory = sqlite3.Row
            return [dict(r) for r in con.execute(sql, params)]
        finally:
            con.close()

    def search(self, q: str) -> list[dict[str, Any]]:
        like = f"%{q}%"
        return self.query("SELECT id, name, price_cents FROM products WHERE name LIKE ? OR description LIKE ? "
                          "ORDER BY id", (like, like))

    def product(self, pid: int) -> dict[str, Any] | None:
        rows = self.query("SELECT id, name, description, price_cents FROM products WHERE id = ?", (pid,))
        return rows[0] if rows else None

    # ---- the injected code paths ---------------------------------------------------------------------

    def inject_write_db(self) -> dict[str, Any]:
        fd = os.open(self.db, os.O_RDWR)  # the kernel decides here
        os.close(fd)
        con = sqlite3.connect(self.db)
        with con:
            con.execute("INSERT INTO products (name, description, price_cents) VALUES ('injected', 'x', 0)")
        con.close()
        return {"ok": True}

    def inject_write_tmp(self, path: str) -> dict[str, Any]:
        with open(path, "w") as f:
            f.write("injected\n")
        return {"ok": True, "path": path}

    def inject_connect(self, port: int) -> dict[str, Any]:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"injected\n")
        return {"ok": True, "port": port}


def handler_for(svc: Service) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "product-search/1"

        def log_message(self, fmt: str, *args: Any) -> None:
            sys.stderr.write(f"product-search: {fmt % args}\n")

        def reply(self, status: int, body: object) -> None:
            data = (json.dumps(body) + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - the http.server interface
            url = urlsplit(self.path)
            qs = parse_qs(url.query)
            try:
                if url.path == "/health":
                    self.reply(200, {"status": "ok", "pid": os.getpid()})
                elif url.path == "/search":
                    self.reply(200, {"results": svc.search(qs.get("q", [""])[0])})
                elif url.path.startswith("/products/") and url.path[len("/products/"):].isdigit():
                    found = svc.product(int(url.path[len("/products/"):]))
                    self.reply(200 if found else 404, found or {"error": "no such product"})
                elif svc.injected and url.path.startswith("/_injected/"):
                    self.injected(url.path[len("/_injected/"):], qs)
                else:
                    self.reply(404, {"error": "not found"})
            except sqlite3.Error as e:
                self.reply(500, {"error": f"database: {e}"})

        def injected(self, what: str, qs: dict[str, list[str]]) -> None:
            try:
                if what == "write-db":
                    result = svc.inject_write_db()
                elif what == "write-tmp":
                    result = svc.inject_write_tmp(qs["path"][0])
                elif what == "connect":
                    result = svc.inject_connect(int(qs["port"][0]))
                else:
                    self.reply(404, {"error": "not found"})
                    return
            except OSError as e:
                result = {"ok": False, "errno": e.errno, "error": e.strerror}
            except sqlite3.Error as e:
                result = {"ok": False, "errno": None, "error": f"database: {e}"}
            self.reply(200, result)

    return Handler


def serve(db: str, host: str, port: int, injected: bool) -> None:
    svc = Service(db, injected)
    server = ThreadingHTTPServer((host, port), handler_for(svc))

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stderr.write(f"product-search: serving {svc.db} on http://{host}:{server.server_port}/\n")
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("init-db", help="create the example database")
    p.add_argument("db")
    p = sub.add_parser("serve", help="serve queries")
    p.add_argument("--db", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--with-injected-paths", action="store_true",
                   help="add the /_injected/ routes that stand for injected code (demonstrations and tests)")
    ns = parser.parse_args(argv)
    if ns.cmd == "init-db":
        init_db(ns.db)
        return 0
    serve(ns.db, ns.host, ns.port, ns.with_injected_paths)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
