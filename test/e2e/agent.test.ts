import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { errors } from "../../lib/errors";
import { AGENT_ENV, HostSession } from "../../lib/ssh/session";
import type { ConnectionSpec } from "../../lib/spec";
import { localHost, sshRun, Target } from "../support/local-host";
import { failureText } from "../support/failure-text";
import { processes, uidOf, waitForProcess } from "../support/host-processes";

/**
 * The command agent against the real local sshd: every command and write of a session goes
 * over one exec channel, byte for byte as the per-command exec channels and SFTP gave them;
 * requests run concurrently; an abort, a disposed session and a dropped connection stop
 * what the agent started; a host where it cannot start gets the old paths.
 */
let target: Target;
let connection: ConnectionSpec;
let uid: number;
const dir = () => `${target.home}/agent-test`;
const place = () => ({ unit: "test/agent", target: `${target.user}@${target.host}:${target.port}` });
/** A session; with the agent (not "off"), it is up before the first command, so every call goes through it. */
async function open(agent?: string): Promise<HostSession> {
  const session = await HostSession.open(connection, { ...process.env, [AGENT_ENV]: agent }, () => undefined);
  await session.warm();
  return session;
}

async function waitForGone(filter: (cmdline: string) => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (processes((p) => p.uid === uid && filter(p.cmdline)).length > 0) {
    if (Date.now() > deadline) throw new Error("a remote process still runs");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(() => {
  target = localHost().managed;
  connection = { host: target.host, port: target.port, user: target.user, privateKeyPath: target.key, useAgent: false, hostKey: target.hostKey, connectTimeoutSeconds: 10 };
  uid = uidOf(target.home);
  sshRun(target, `rm -rf agent-test && mkdir agent-test`);
});

afterAll(() => {
  sshRun(target, "rm -rf agent-test");
});

test("output, exit codes and stdin round-trip byte for byte, as over per-command exec channels", async () => {
  const stdin = "ü ✓ 🎉 ${HOME} $(id) `id` 'q' \"d\" \\ \r\n\t\u0001 end";
  const script = `cat; printf '%s\\n' "\${HOME}" 'ü'; printf 'err %s' "$$" >/dev/null; echo 'to stderr ✓' >&2; exit 7`;
  const agent = await open();
  const exec = await open("off");
  try {
    const viaAgent = await agent.runRaw(place(), "round trip", script, stdin);
    expect(viaAgent).toEqual({ stdout: `${stdin}${target.home}\nü\n`, stderr: "to stderr ✓\n", code: 7 });
    expect(await exec.runRaw(place(), "round trip", script, stdin)).toEqual(viaAgent);
    expect(await agent.transport()).toBe("agent");
    expect(await exec.transport()).toBe("exec");
    // A failure reads the same either way.
    expect(await failureText(() => agent.run(place(), "fail", "echo out; exit 3"))).toBe(await failureText(() => exec.run(place(), "fail", "echo out; exit 3")));
  } finally {
    agent.dispose();
    exec.dispose();
  }
});

test.each([["the agent", undefined], ["SFTP (agent off)", "off"]])("one upload of local files and generated content through %s: modes and bytes as given", async (_, agent) => {
  const session = await open(agent);
  const local = fs.mkdtempSync(path.join(os.tmpdir(), "agent-test-"));
  const sub = `${dir()}/mixed-${agent ?? "agent"}`;
  fs.writeFileSync(path.join(local, "app.py"), "app = 1\n");
  try {
    await session.run(place(), "prepare", `mkdir -p ${sub}`);
    await session.putFiles(place(), "upload", [
      { local: path.join(local, "app.py"), remote: `${sub}/app.py`, mode: 0o644 },
      { remote: `${sub}/entry ü.wsgi`, content: "print('$(x) ü')\n", mode: 0o600 },
      { remote: `${sub}/manifest.bin`, content: Buffer.from([0, 10, 255]), mode: 0o640 },
    ]);
    const listing = sshRun(target, `cd ${sub} && stat -c '%a %s %n' app.py 'entry ü.wsgi' manifest.bin && cat 'entry ü.wsgi' && od -An -tx1 manifest.bin`);
    expect(listing.trim().split("\n").map((l) => l.trim())).toEqual(["644 8 app.py", "600 17 entry ü.wsgi", "640 3 manifest.bin", "print('$(x) ü')", "00 0a ff"]);
  } finally {
    session.dispose();
    fs.rmSync(local, { recursive: true, force: true });
  }
});

test.each([["the agent", undefined], ["the fallback (agent off)", "off"]])("before, files, then a script in one call through %s: the same results; a failing before writes nothing and runs nothing", async (_, agent) => {
  const session = await open(agent);
  const local = fs.mkdtempSync(path.join(os.tmpdir(), "agent-test-"));
  const sub = `${dir()}/with-files-${agent ?? "agent"}`;
  fs.writeFileSync(path.join(local, "app.py"), "app = 1\n");
  try {
    const result = await session.runWithFiles(place(), "build", {
      before: `mkdir -p '${sub}/lib ü'`,
      files: [
        { local: path.join(local, "app.py"), remote: `${sub}/lib ü/app.py`, mode: 0o640 },
        { remote: `${sub}/secret`, content: "s3cret ${x}\n", mode: 0o600, atomic: true },
      ],
      script: `cat; cd '${sub}' && stat -c '%a %s %n' 'lib ü/app.py' secret && ls -A | grep -c webshare-tmp; exit 5`,
      stdin: "in ü\n",
    });
    expect(result).toEqual({ stdout: "in ü\n640 8 lib ü/app.py\n600 12 secret\n0\n", stderr: "", code: 5 });
    const text = await failureText(() => session.runWithFiles(place(), "build", { before: "echo no >&2; exit 3", files: [{ remote: `${sub}/never`, content: "x" }], script: `touch '${sub}/ran'` }));
    expect(text).toContain(`step "build" failed`);
    expect(text).toContain("no");
    expect(sshRun(target, `ls -A '${sub}'`).trim().split("\n")).toEqual(["lib ü", "secret"]);
  } finally {
    session.dispose();
    fs.rmSync(local, { recursive: true, force: true });
  }
});

test("requests run concurrently on the one channel", async () => {
  const session = await open();
  try {
    // The first waits for what the second does: serialized, it would time out.
    const flag = `${dir()}/concurrent-flag`;
    const waiting = session.run(place(), "wait", `i=0; while [ ! -e ${flag} ]; do i=$((i+1)); [ $i -lt 200 ] || exit 9; sleep 0.05; done; echo waited`);
    const others = Array.from({ length: 12 }, (_, i) => session.run(place(), "echo", `echo ${i}`));
    const creating = session.run(place(), "create", `touch ${flag}; echo created`);
    expect((await waiting).stdout).toBe("waited\n");
    expect((await creating).stdout).toBe("created\n");
    expect((await Promise.all(others)).map((r) => r.stdout)).toEqual(Array.from({ length: 12 }, (_, i) => `${i}\n`));
  } finally {
    session.dispose();
  }
});

test("a command sent while the agent starts takes an exec channel of its own, one at a time; the agent serves the rest", async () => {
  // Whose child the command's shell is: sshd's (an exec channel of its own) or the agent's Python.
  const parent = "cat /proc/$PPID/comm";
  const session = await HostSession.open(connection, process.env, () => undefined);
  try {
    const [first, second] = await Promise.all([session.run(place(), "first", parent), session.run(place(), "second", parent)]);
    expect(first.stdout).toBe("sshd\n");
    expect(second.stdout).toBe("python3\n");
    expect(await session.transport()).toBe("agent");
    expect((await session.run(place(), "later", parent)).stdout).toBe("python3\n");
  } finally {
    session.dispose();
  }
});

test("written files: modes (0600 by default), content byte for byte, no temp file left", async () => {
  const session = await open();
  const local = fs.mkdtempSync(path.join(os.tmpdir(), "agent-test-"));
  const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const big = Buffer.alloc(600 * 1024, 0xab); // more than one data frame
  fs.writeFileSync(path.join(local, "a.bin"), binary);
  fs.writeFileSync(path.join(local, "big.bin"), big);
  fs.writeFileSync(path.join(local, "c ü.txt"), "c\n");
  try {
    await session.writeFileAtomic(place(), "write", `${dir()}/secret.bin`, binary);
    await session.writeFileAtomic(place(), "write", `${dir()}/public.txt`, "ü ${x}\n", 0o644);
    await session.putFiles(place(), "upload", [
      { local: path.join(local, "a.bin"), remote: `${dir()}/a.bin`, mode: 0o755 },
      { local: path.join(local, "big.bin"), remote: `${dir()}/big.bin`, mode: 0o600 },
      { local: path.join(local, "c ü.txt"), remote: `${dir()}/c ü.txt` },
    ]);
    const listing = sshRun(target, `cd agent-test && stat -c '%a %s %n' secret.bin public.txt a.bin big.bin 'c ü.txt' && ls -A | grep -c webshare-tmp || true`);
    expect(listing.trim().split("\n")).toEqual(["600 256 secret.bin", "644 8 public.txt", "755 256 a.bin", `600 ${big.length} big.bin`, "644 2 c ü.txt", "0"]);
    const sums = sshRun(target, "cd agent-test && sha256sum secret.bin a.bin big.bin public.txt");
    const sum = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
    expect(sums.trim().split("\n").map((l) => l.split(" ")[0])).toEqual([sum(binary), sum(binary), sum(big), sum("ü ${x}\n")]);
    // A write that cannot happen reads as over SFTP.
    const text = await failureText(() => session.writeFileAtomic(place(), "write", `${dir()}/missing/x`, "x"));
    expect(text).toContain(`step "write" failed: cannot write ${dir()}/missing/x: No such file or directory`);
  } finally {
    session.dispose();
  }
});

test("an abort kills the remote process group", async () => {
  const session = await open();
  try {
    const abort = new AbortController();
    const running = failureText(() => session.runRaw(place(), "long step", "sleep 301 & sleep 302; wait", undefined, abort.signal));
    await waitForProcess((p) => p.uid === uid && p.cmdline === "sleep 302", "the long command", 10_000);
    await waitForProcess((p) => p.uid === uid && p.cmdline === "sleep 301", "its background child", 10_000);
    abort.abort();
    expect(await running).toBe(errors.connectionLost(place(), "long step").render());
    await waitForGone((c) => c === "sleep 301" || c === "sleep 302");
    // The session goes on.
    expect((await session.run(place(), "after", "echo still")).stdout).toBe("still\n");
  } finally {
    session.dispose();
  }
});

test("a disposed session and a dropped connection stop what the agent started", async () => {
  const disposed = await open();
  const first = failureText(() => disposed.run(place(), "long step", "sleep 303 & sleep 304; wait"));
  await waitForProcess((p) => p.uid === uid && p.cmdline === "sleep 304", "the long command", 10_000);
  disposed.dispose();
  expect(await first).toBe(errors.connectionLost(place(), "long step").render());
  await waitForGone((c) => c === "sleep 303" || c === "sleep 304");

  const dropped = await open();
  const second = failureText(() => dropped.run(place(), "long step", "sleep 305 & sleep 306; wait"));
  const remote = await waitForProcess((p) => p.uid === uid && p.cmdline === "sleep 306", "the long command", 10_000);
  // The host drops the connection: its sshd session process goes (as the broker test does it).
  const agentPid = processes((p) => p.pid === remote.ppid)[0]?.ppid;
  const sshd = processes((p) => p.uid === uid && p.comm === "sshd" && agentPid !== undefined && processes((q) => q.pid === agentPid && q.ppid === p.pid).length > 0);
  expect(sshd).toHaveLength(1);
  process.kill(sshd[0]!.pid, "SIGKILL");
  expect(await second).toBe(errors.connectionLost(place(), "long step").render());
  await waitForGone((c) => c === "sleep 305" || c === "sleep 306");
  dropped.dispose();
});

test("a host where the agent cannot start gets per-command exec channels and SFTP, with the same results, and a note saying so", async () => {
  const notes: string[] = [];
  const session = await HostSession.open(connection, { ...process.env, [AGENT_ENV]: "/nonexistent/python3" }, (l) => notes.push(l));
  try {
    expect((await session.runRaw(place(), "echo", "cat; exit 4", "in ü")).stdout).toBe("in ü");
    expect(await session.transport()).toBe("exec");
    expect(session.agentProblem).toContain("/nonexistent/python3");
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain("(the agent did not start: env: '/nonexistent/python3': No such file or directory)");
    expect(notes[0]).toMatch(/^webshare: \S+: no command agent \(the agent did not start: .*\/nonexistent\/python3.*\); each command gets its own SSH channel, 3-4 round trips instead of 1\. WEBSHARE_SSH_AGENT=\/path\/to\/python3 names the host's Python 3/);
    await session.writeFileAtomic(place(), "write", `${dir()}/fallback.txt`, "fallback\n");
    expect(sshRun(target, "stat -c '%a' agent-test/fallback.txt; cat agent-test/fallback.txt")).toBe("600\nfallback\n");
  } finally {
    session.dispose();
  }
});

test("a login shell that prints on start does not reach the agent's frames", async () => {
  sshRun(target, `cp -p .bashrc agent-test/bashrc.saved 2>/dev/null; printf 'echo "Welcome to the host"\\necho "stderr noise" >&2\\n' >> .bashrc`);
  try {
    const session = await open();
    try {
      expect(await session.runRaw(place(), "echo", "echo clean")).toEqual({ stdout: "clean\n", stderr: "", code: 0 });
      expect(await session.transport()).toBe("agent");
    } finally {
      session.dispose();
    }
  } finally {
    sshRun(target, "if [ -e agent-test/bashrc.saved ]; then mv agent-test/bashrc.saved .bashrc; else rm -f .bashrc; fi");
  }
});
