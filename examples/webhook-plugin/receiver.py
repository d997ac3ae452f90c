"""A local webhook receiver for trying the plugin: prints each POST's headers and body.
Usage: python3 receiver.py [PORT] [STATUS]   (PORT 0 picks a free one; STATUS defaults to 200)"""
import http.server, json, sys

class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        status = int(sys.argv[2]) if len(sys.argv) > 2 else 200
        print(json.dumps({"path": self.path, "headers": dict(self.headers), "body": json.loads(body or "null"), "answered": status}), flush=True)
        self.send_response(status)
        if status == 429: self.send_header("Retry-After", "30")
        self.end_headers()
        self.wfile.write(b"ok" if status < 300 else b"no")
    def log_message(self, *args): pass

server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Hook)
print(f"listening on http://127.0.0.1:{server.server_port}/hook", file=sys.stderr, flush=True)
server.serve_forever()
