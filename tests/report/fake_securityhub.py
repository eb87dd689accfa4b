"""A fake AWS Security Hub on loopback that speaks BatchImportFindings (REST-JSON, POST /findings/import).

It checks what the real service checks first (a SigV4-signed request, at most 100 findings, the required
ASFF fields and their basic constraints), records every batch, and refuses the finding ids it is told to
refuse, answering like Security Hub (FailedFindings with ErrorCode and ErrorMessage).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kubecis.report.asff import REQUIRED


@dataclass
class FakeSecurityHub:
    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)  # protocol problems seen (should stay empty)
    url: str = ""

    @property
    def findings(self) -> list[dict[str, Any]]:
        return [f for b in self.batches for f in b]


def _problems(f: dict[str, Any]) -> list[str]:
    out = [f"missing {k}" for k in REQUIRED if k not in f]
    if len(f.get("Title", "")) > 256:
        out.append("Title longer than 256")
    if len(f.get("Description", "")) > 1024:
        out.append("Description longer than 1024")
    if len(f.get("Id", "")) > 512:
        out.append("Id longer than 512")
    if f.get("SchemaVersion") != "2018-10-08":
        out.append("bad SchemaVersion")
    if not f.get("Resources") or any(not r.get("Id") or not r.get("Type") for r in f.get("Resources", [])):
        out.append("bad Resources")
    return out


@contextmanager
def fake_securityhub() -> Iterator[FakeSecurityHub]:
    hub = FakeSecurityHub()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path != "/findings/import":
                return self._send(404, {"message": f"no route {self.path}"})
            if not self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 Credential="):
                hub.errors.append("unsigned request")
                return self._send(403, {"message": "Missing Authentication Token"})
            findings = json.loads(body).get("Findings", [])
            if not 1 <= len(findings) <= 100:
                hub.errors.append(f"batch of {len(findings)}")
                return self._send(400, {"Code": "InvalidInputException",
                                        "Message": "Findings must contain between 1 and 100 items"})
            hub.batches.append(findings)
            failed = []
            for f in findings:
                problems = _problems(f)
                if problems:
                    hub.errors.append(f"{f.get('Id')}: {problems}")
                    failed.append({"Id": f.get("Id", ""), "ErrorCode": "InvalidInput",
                                   "ErrorMessage": "; ".join(problems)})
                elif f["Id"] in hub.refuse:
                    failed.append({"Id": f["Id"], "ErrorCode": "AccessDeniedException",
                                   "ErrorMessage": "The product is not subscribed"})
            self._send(200, {"FailedCount": len(failed), "SuccessCount": len(findings) - len(failed),
                             "FailedFindings": failed})

        def _send(self, status: int, doc: dict[str, Any]) -> None:
            data = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
