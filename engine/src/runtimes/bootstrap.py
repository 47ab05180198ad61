"""Lambdaport's Python runtime client: speaks the Lambda Runtime API (2018-06-01) like AWS's
awslambdaric, with only the standard library so nothing needs installing. Everything it imports is
what a cold start pays for, so it talks HTTP/1.1 over a plain socket (http.client and the email
package behind it would double a cold start) and uses the C parts of `json` and `socket` directly:
importing the modules around them (re, enum and what they import) costs more than the rest of the
client's start (about 11 of 20 CPU-ms). Their results are the same: `json` itself uses these C
parts, and anything unusual (an error to explain, an interpreter without them) falls back to it."""

import _socket
import io
import os
import site
import sys
import time

try:
    import _json
except ImportError:  # an interpreter without the accelerator: the json module does it all
    _json = None

# Started with -S (importing site then runs nothing): the host's .pth files and sitecustomize,
# which may import whole packages at every start, are not run in a function's environment, as on
# Lambda; the host's site-packages stay importable (boto3, where the host has it), after the
# function's own code.
sys.path.extend(p for p in site.getsitepackages() if os.path.isdir(p) and p not in sys.path)

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
HOST, PORT = API.rsplit(":", 1)
BASE = "/2018-06-01/runtime"


class _Decoding:
    """What `json.loads` hands its C scanner, with json's defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__


_scan = _json.make_scanner(_Decoding()) if _json else None
_SPACE = " \t\n\r"


def json_loads(data):
    """`json.loads(data)` for a UTF-8 document; anything else (an error to explain, another
    encoding) is the json module's."""
    if _scan is not None:
        try:
            text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
            start = len(text) - len(text.lstrip(_SPACE))
            value, end = _scan(text, start)
            if not text[end:].strip(_SPACE):
                return value
        except (StopIteration, ValueError):
            pass
    import json

    return json.loads(data)


def _unserializable(value):
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def json_dumps(value):
    """`json.dumps(value)`, by the C encoder `json.dumps` itself uses (a new one per call: after an
    error, the one that failed may still hold the containers it was in)."""
    if _json is not None:
        try:
            encode = _json.make_encoder(
                {}, _unserializable, _json.encode_basestring_ascii, None, ": ", ", ", False, False, True
            )
        except TypeError:  # an interpreter whose encoder takes other arguments
            encode = None
        if encode is not None:
            return "".join(encode(value, 0))
    import json

    return json.dumps(value)


_conn = None


def _connect():
    global _conn
    sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    try:
        sock.connect((HOST, int(PORT)))
        sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
    except OSError:
        sock.close()
        raise
    # Buffered reads straight from the socket's descriptor (`makefile` is the socket module's).
    _conn = (sock, io.open(sock.fileno(), "rb", closefd=False))
    return _conn


def _close():
    global _conn
    if _conn:
        for part in reversed(_conn):
            try:
                part.close()
            except OSError:
                pass
    _conn = None


def _request(method, path, body, headers):
    head = f"{method} {BASE}{path} HTTP/1.1\r\nHost: {API}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return head.encode("latin-1") + b"\r\n" + body


def _exchange(method, path, body, headers, then=b""):
    """Sends a request (and, pipelined behind it, `then`) and reads the first response."""
    sock, reader = _conn or _connect()
    sock.sendall(_request(method, path, body, headers) + then)
    return _read_response(reader)


def _read_response(reader):
    status_line = reader.readline()
    if not status_line:
        raise ConnectionError("the Runtime API closed the connection")
    status = int(status_line.split()[1])
    response_headers = {}
    while True:
        line = reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        response_headers[name.strip().lower()] = value.strip()
    if response_headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(reader.readline().split(b";")[0], 16)
            if size == 0:
                reader.readline()
                break
            chunks.append(reader.read(size))
            reader.readline()
        data = b"".join(chunks)
    else:
        data = reader.read(int(response_headers.get("content-length", "0")))
    if response_headers.get("connection", "").lower() == "close":
        _close()
    return status, response_headers, data


def call(method, path, body=b"", headers=None):
    """One request; reconnects once if the engine closed the connection (after refusing a request)."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    for attempt in (1, 2):
        try:
            return _exchange(method, path, body, headers or {})
        except (ConnectionError, OSError, ValueError, IndexError):
            _close()
            if attempt == 2 or len(body) > 6291556:
                return None, {}, b""


_NEXT = _request("GET", "/invocation/next", b"", {})


def finish_and_next(path, body, headers=None):
    """Posts an invocation's outcome with the request for the next invocation pipelined behind it
    (one write, no turnaround in between), and returns the next invocation."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    try:
        _exchange("POST", path, body, headers or {}, then=_NEXT)
        if _conn is not None:
            return _read_response(_conn[1])
    except (ConnectionError, OSError, ValueError, IndexError):
        _close()
    # The engine closed the connection (a refused outcome): ask again on a new one.
    return call("GET", "/invocation/next")


def error_body(exc, request_id=None):
    import traceback  # only on the error path: it costs ~10 ms to import

    body = {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)),
    }
    if request_id:
        body["requestId"] = request_id
    return body


def init_error(error_type, message, stack=None):
    body = {"errorMessage": message, "errorType": error_type, "requestId": "", "stackTrace": stack or []}
    print(f"[ERROR] {error_type}: {message}", flush=True)
    call("POST", "/init/error", json_dumps(body), {"Lambda-Runtime-Function-Error-Type": error_type})
    sys.exit(1)


def load_handler():
    import importlib

    handler = os.environ["_HANDLER"]
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError:
        init_error("Runtime.MalformedHandlerName", f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)")
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        init_error("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}")
    except SyntaxError as exc:
        init_error("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}")
    except Exception as exc:  # noqa: BLE001 - any failure at import is an init error
        body = error_body(exc)
        init_error(body["errorType"], body["errorMessage"], body["stackTrace"])
    function = getattr(module, function_name, None)
    if function is None:
        init_error("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    return function


class Context:
    """The `context` object handlers receive, with AWS's attribute names."""

    def __init__(self, request_id, deadline_ms, invoked_arn, tenant_id=None):
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_arn
        self.tenant_id = tenant_id
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


def main():
    handler = load_handler()
    status, headers, payload = call("GET", "/invocation/next")
    while True:
        if status != 200:
            sys.exit(1)
        request_id = headers.get("lambda-runtime-aws-request-id")
        deadline_ms = int(headers.get("lambda-runtime-deadline-ms", "0"))
        os.environ["_X_AMZN_TRACE_ID"] = headers.get("lambda-runtime-trace-id", "")
        context = Context(
            request_id,
            deadline_ms,
            headers.get("lambda-runtime-invoked-function-arn", ""),
            headers.get("lambda-runtime-aws-tenant-id"),
        )
        body = None
        try:
            event = json_loads(payload) if payload else {}
            returned = handler(event, context)
        except Exception as exc:  # noqa: BLE001 - every handler failure is reported, not raised
            body = error_body(exc, request_id)
            print(f"[ERROR] {body['errorType']}: {body['errorMessage']}", flush=True)
            print("Traceback (most recent call last):\n" + "".join(body["stackTrace"]), end="", flush=True)
        else:
            try:
                result = json_dumps(returned)
            except Exception as exc:  # noqa: BLE001 - what the handler returned is not JSON
                # As AWS's runtime reports it: the runtime failed, not the handler's code.
                body = {"errorMessage": f"Unable to marshal response: {exc}",
                        "errorType": "Runtime.MarshalError", "requestId": request_id, "stackTrace": []}
                print(f"[ERROR] Runtime.MarshalError: {body['errorMessage']}", flush=True)
        if body is not None:
            status, headers, payload = finish_and_next(
                f"/invocation/{request_id}/error", json_dumps(body),
                {"Lambda-Runtime-Function-Error-Type": body["errorType"]})
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        status, headers, payload = finish_and_next(f"/invocation/{request_id}/response", result)


if __name__ == "__main__":
    main()
