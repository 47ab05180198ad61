"""Lambdaport's Python runtime client: speaks the Lambda Runtime API (2018-06-01) like AWS's
awslambdaric, using only the standard library so nothing needs installing."""

import http.client
import importlib
import json
import os
import sys
import time
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
HOST, PORT = API.rsplit(":", 1)
CONN = http.client.HTTPConnection(HOST, int(PORT))
BASE = "/2018-06-01/runtime"


def call(method, path, body=None, headers=None):
    # The engine may close the connection after refusing a request (an oversized response):
    # reconnect once, as the connection is just transport.
    for attempt in (1, 2):
        try:
            CONN.request(method, BASE + path, body=body, headers=headers or {})
            response = CONN.getresponse()
            return response, response.read()
        except (http.client.HTTPException, ConnectionError):
            CONN.close()
            if attempt == 2 or method == "POST" and path.endswith("/response") and body and len(body) > 6291556:
                return None, b""


def error_body(exc, request_id=None):
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
    call("POST", "/init/error", json.dumps(body), {"Lambda-Runtime-Function-Error-Type": error_type})
    sys.exit(1)


def load_handler():
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
        init_error(type(exc).__name__, str(exc), traceback.format_list(traceback.extract_tb(exc.__traceback__)))
    function = getattr(module, function_name, None)
    if function is None:
        init_error("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    return function


class Context:
    """The `context` object handlers receive, with AWS's attribute names."""

    def __init__(self, request_id, deadline_ms, invoked_arn):
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_arn
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
    while True:
        response, payload = call("GET", "/invocation/next")
        if response is None:
            sys.exit(1)
        request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
        deadline_ms = int(response.getheader("Lambda-Runtime-Deadline-Ms", "0"))
        invoked_arn = response.getheader("Lambda-Runtime-Invoked-Function-Arn", "")
        os.environ["_X_AMZN_TRACE_ID"] = response.getheader("Lambda-Runtime-Trace-Id", "")
        context = Context(request_id, deadline_ms, invoked_arn)
        try:
            event = json.loads(payload) if payload else {}
            result = json.dumps(handler(event, context))
        except Exception as exc:  # noqa: BLE001 - every handler failure is reported, not raised
            body = error_body(exc, request_id)
            print(f"[ERROR] {body['errorType']}: {body['errorMessage']}", flush=True)
            print("Traceback (most recent call last):\n" + "".join(body["stackTrace"]), end="", flush=True)
            sys.stdout.flush()
            call("POST", f"/invocation/{request_id}/error", json.dumps(body),
                 {"Lambda-Runtime-Function-Error-Type": body["errorType"]})
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        call("POST", f"/invocation/{request_id}/response", result)


if __name__ == "__main__":
    main()
