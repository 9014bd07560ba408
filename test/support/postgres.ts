import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

/**
 * A throwaway PostgreSQL cluster for one test file: its own data dir and socket dir in a
 * temp dir, its own free port on 127.0.0.1, trust authentication (loopback only), stopped
 * and removed by `stop()`. Run as the `postgres` user when the tests run as root (PostgreSQL
 * refuses to run as root). Needs Debian's postgresql package (scripts/host/install.sh).
 */
export interface Postgres {
  /** What PG_CONN_STR should hold for the pg backend. */
  readonly connStr: string;
  readonly port: number;
  stop(): void;
}

function binDir(): string {
  const base = "/usr/lib/postgresql";
  const versions = fs.existsSync(base) ? fs.readdirSync(base).filter((v) => fs.existsSync(path.join(base, v, "bin/pg_ctl"))).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl): run scripts/host/install.sh as root");
  return path.join(base, versions[0], "bin");
}

/** A port nothing listens on right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<Postgres> {
  const bin = binDir();
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-pg-"));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync("chown", ["postgres:postgres", dir]);
  const run = (program: string, args: string[]) =>
    execFileSync(asRoot ? "runuser" : path.join(bin, program), asRoot ? ["-u", "postgres", "--", path.join(bin, program), ...args] : args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  const data = path.join(dir, "data");
  run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  try {
    run("pg_ctl", ["-D", data, "-o", options, "-l", path.join(dir, "log"), "-w", "-t", "60", "start"]);
  } catch (e) {
    const log = fs.existsSync(path.join(dir, "log")) ? fs.readFileSync(path.join(dir, "log"), "utf8") : "";
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start on port ${port}: ${(e as Error).message}\n${log}`);
  }
  return {
    connStr: `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    port,
    stop: () => {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
