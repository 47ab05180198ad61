# A hostile handler: it tries what a learner's code should not be able to do, and reports.
# Used by engine/tests/sandbox.rs (engine as root) and server/tests/sandbox_user.rs (as a user).
import errno, os, socket, subprocess, sys, time


def can_read(path):
    try:
        with open(path, "rb") as f:
            f.read(1)
        return True
    except OSError:
        return False


def can_connect(port):
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def lambda_handler(event, context):
    action = event.get("action", "probe")
    if action == "setsid":
        subprocess.Popen(["setsid", "sleep", event["marker"]])
        time.sleep(60)
    if action == "forks":
        while True:
            try:
                if os.fork() == 0:
                    time.sleep(600)
                    os._exit(0)
            except OSError:
                time.sleep(0.01)
    if action == "fill_tmp":
        written, chunk = 0, b"x" * (1 << 20)
        try:
            with open("/tmp/fill", "wb") as f:
                while written < (4 << 30):
                    f.write(chunk)
                    f.flush()
                    written += len(chunk)
            return {"written": written, "error": None}
        except OSError as e:
            return {"written": written, "error": errno.errorcode.get(e.errno, str(e.errno))}
    if action == "shout":
        sys.stdout.write("A" * event["bytes"])
        sys.stdout.flush()
        return {"shouted": event["bytes"]}
    data_dir = event["data_dir"]
    try:
        open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "lambda_function.py"), "a").write("#")
        code_writable = True
    except OSError:
        code_writable = False
    homes = [h for h in ["/root", "/home"] if os.path.exists(h)]
    import ctypes, threading
    libc = ctypes.CDLL(None, use_errno=True)
    new_user_namespace = libc.unshare(0x10000000) == 0  # CLONE_NEWUSER
    seen = []
    thread = threading.Thread(target=lambda: seen.append(True))
    thread.start()
    thread.join()
    return {
        "uid": os.getuid(),
        "data_dir_visible": os.path.exists(data_dir),
        "record_readable": can_read(os.path.join(data_dir, "functions", context.function_name + ".json")),
        "engine_environ_readable": can_read(f"/proc/{event['engine_pid']}/environ"),
        "init_environ_readable": can_read("/proc/1/environ"),
        "engine_api": can_connect(event["engine_port"]),
        "postgres": can_connect(5432),
        "runtime_api": os.environ["AWS_LAMBDA_RUNTIME_API"],
        "code_writable": code_writable,
        "homes": homes,
        "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "tmp_writable": open("/tmp/probe", "w").write("ok") == 2,
        "new_user_namespace": new_user_namespace,
        "threads": seen == [True],
    }
