import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";

/**
 * What mod_wsgi would answer for a middle-tier home: the entry point's report names the
 * release and venv the home's symlinks point at (as a restarted daemon process would), and
 * the app's health URL answers 200. A test marks what is broken (`broken`), or hooks every
 * request (`onRequest`) to play an interrupt while the deploy verifies.
 */
export interface FakeSite {
  readonly healthUrl: string;
  readonly releaseUrl: string;
  /** Which release/venv combination fails (HTTP 500 on both URLs, like a failing import). */
  broken: (serving: { release: string; venv: string }) => boolean;
  onRequest?: () => void;
  /** Requests answered with 500: what users would have seen. */
  failedRequests: number;
  close(): Promise<void>;
}

const idOf = (link: string) => {
  try {
    return path.basename(fs.realpathSync(link));
  } catch {
    return "none";
  }
};

export async function fakeSite(home: string, layout = { app: "public", venv: "private/venv", mount: "/app" }): Promise<FakeSite> {
  const site: Partial<FakeSite> & { failedRequests: number; broken: FakeSite["broken"] } = { broken: () => false, failedRequests: 0 };
  const server = http.createServer((request, response) => {
    site.onRequest?.();
    const serving = { release: idOf(path.join(home, layout.app)), venv: idOf(path.join(home, layout.venv)) };
    if (site.broken(serving)) {
      site.failedRequests++;
      response.writeHead(500).end("ModuleNotFoundError: No module named 'greeting'");
    } else if (request.url === `${layout.mount}/.webshare/health`) {
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ...serving, pid: 4242, started: null, loaded: Date.now() / 1000, stale: false }));
    } else response.writeHead(200).end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(site, {
    healthUrl: `${origin}${layout.mount}/health`,
    releaseUrl: `${origin}${layout.mount}/.webshare/health`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }) as FakeSite;
}
