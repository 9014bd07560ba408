/**
 * The command agent's program: a fixed Python text (stdlib only, Python >= 3.5) the session
 * starts once per connection with `python3 -c`, through the login shell, on one exec channel.
 * Nothing is ever interpolated into it; requests reach it as frames on its stdin
 * (lib/ssh/agent-protocol.ts describes the wire format).
 *
 * What it does:
 * - Sends a hello frame, then reads frames until its stdin ends.
 * - A request ("R") carries a JSON head (before, script, stdin size, files) followed by its
 *   bytes in data frames ("D"). Each request runs in its own thread, so requests run
 *   concurrently: first its "before" script runs, if it has one (e.g. the mkdir of the dirs
 *   the files go to; when it fails, nothing else of the request runs and the exit says
 *   so), then the files are written (atomic ones to a temp file created with the mode, then
 *   renamed over the target; others created or truncated in place, chmod-ed to their mode
 *   before their content is written), then the script runs as `/bin/sh -c SCRIPT` (an argv
 *   element, never a command line) in its own session and process group, with the stdin
 *   bytes. Its stdout and stderr come back as frames as they are printed ("O", "E"), and an
 *   exit frame ("X") ends the request: the exit code (128 + signal when killed), or the
 *   error of a file write and the partial files it left (the client looks at free space
 *   before it removes them).
 * - A kill frame ("K") stops a request: its process group gets SIGTERM, then SIGKILL after
 *   2 s if anything of it still runs.
 * - When its stdin ends (the channel closed, the connection dropped), its stdout breaks,
 *   or it gets SIGTERM/SIGHUP, it stops every process group it started the same way, then
 *   exits: nothing it started outlives the connection. (Processes that leave their group,
 *   like a daemon that calls setsid, are theirs to keep.)
 * - Paths and the script are passed to the OS as UTF-8 bytes, whatever the host's locale.
 */
export const AGENT_PROGRAM = String.raw`import errno, json, os, queue, signal, struct, subprocess, sys, threading, time
HEAD = struct.Struct(">IcI")
IN = sys.stdin.buffer
OUT = sys.stdout.buffer
out_lock = threading.Lock()
lock = threading.RLock()
procs = {}
feeds = {}
state = {"closing": False}

class Feed:
    def __init__(self):
        self.q = queue.Queue()
        self.buf = b""
        self.cancelled = False

def pieces(feed, n):
    while n > 0:
        if not feed.buf:
            feed.buf = feed.q.get()
            if feed.buf is None:
                raise EOFError("cancelled")
        c = feed.buf[:n]
        feed.buf = feed.buf[len(c):]
        n -= len(c)
        yield c

def send(kind, rid, body=b""):
    try:
        with out_lock:
            OUT.write(HEAD.pack(5 + len(body), kind, rid) + body)
            OUT.flush()
    except (OSError, ValueError):
        threading.Thread(target=shutdown, daemon=True).start()

def alive(pid):
    try:
        os.killpg(pid, 0)
        return True
    except OSError:
        return False

def stop(pids):
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.time() + 2
    while time.time() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass

def shutdown(*_):
    with lock:
        state["closing"] = True
        pids = [p.pid for p in procs.values()]
        for feed in feeds.values():
            feed.q.put(None)
    stop(pids)
    os._exit(0)

def cancel(rid):
    with lock:
        feed = feeds.get(rid)
        proc = procs.get(rid)
        if feed is not None:
            feed.cancelled = True
            feed.q.put(None)
    if proc is not None:
        threading.Thread(target=stop, args=([proc.pid],), daemon=True).start()

def write_file(f, feed, left):
    path = f["path"].encode("utf-8")
    mode = f.get("mode")
    target = path
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    if f.get("atomic"):
        path = path + b".webshare-tmp-" + os.urandom(4).hex().encode()
        flags |= os.O_EXCL
    else:
        flags |= os.O_TRUNC
    fd = os.open(path, flags, 0o666 if mode is None else mode & 0o7777)
    left.append(f["path"] if path == target else path.decode("utf-8"))
    try:
        if mode is not None:
            os.fchmod(fd, mode & 0o7777)
        for c in pieces(feed, f["size"]):
            view = memoryview(c)
            while view:
                view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    if path != target:
        os.rename(path, target)
    left.pop()

def pump(fd, kind, rid):
    while True:
        c = os.read(fd, 65536)
        if not c:
            return
        send(kind, rid, c)

def feed_stdin(proc, data):
    try:
        if data:
            proc.stdin.write(data)
    except OSError:
        pass
    try:
        proc.stdin.close()
    except OSError:
        pass

def run(rid, script, data, feed):
    proc = subprocess.Popen([b"/bin/sh", b"-c", script.encode("utf-8")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    with lock:
        procs[rid] = proc
        doomed = state["closing"] or feed.cancelled
    if doomed:
        stop([proc.pid])
    threads = [threading.Thread(target=feed_stdin, args=(proc, data)), threading.Thread(target=pump, args=(proc.stderr.fileno(), b"E", rid))]
    for t in threads:
        t.start()
    pump(proc.stdout.fileno(), b"O", rid)
    for t in threads:
        t.join()
    code = proc.wait()
    proc.stdout.close()
    proc.stderr.close()
    return code if code >= 0 else 128 - code

def serve(rid, body, feed):
    left = []
    try:
        (size,) = struct.unpack(">I", body[:4])
        head = json.loads(body[4:4 + size].decode("utf-8"))
        feed.buf = body[4 + size:]
        data = b"".join(pieces(feed, head.get("stdin", 0)))
        before = head.get("before")
        code = 0 if before is None else run(rid, before, b"", feed)
        if code != 0:
            reply = {"code": code, "before": True}
        else:
            for f in head.get("files", []):
                write_file(f, feed, left)
            script = head.get("script")
            code = 0 if script is None else run(rid, script, data, feed)
            reply = {"code": code}
    except EnvironmentError as e:
        reply = {"error": e.strerror or str(e), "errno": errno.errorcode.get(e.errno or 0, ""), "left": left}
    except Exception as e:
        reply = {"error": str(e) or type(e).__name__, "errno": "", "left": left}
    with lock:
        feeds.pop(rid, None)
        procs.pop(rid, None)
    send(b"X", rid, json.dumps(reply).encode("utf-8"))

def read(n):
    data = b""
    while len(data) < n:
        c = IN.read(n - len(data))
        if not c:
            raise EOFError()
        data += c
    return data

def main():
    os.environ.pop("PYTHONCOERCECLOCALE", None)
    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGHUP, shutdown)
    send(b"H", 0, b"webshare-agent 1")
    try:
        while True:
            n, kind, rid = HEAD.unpack(read(HEAD.size))
            body = read(n - 5)
            if kind == b"R":
                feed = Feed()
                with lock:
                    feeds[rid] = feed
                threading.Thread(target=serve, args=(rid, body, feed), daemon=True).start()
            elif kind == b"D":
                with lock:
                    feed = feeds.get(rid)
                if feed is not None:
                    feed.q.put(body)
            elif kind == b"K":
                cancel(rid)
    except (EOFError, OSError):
        pass
    shutdown()

main()
`;
