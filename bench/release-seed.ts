/**
 * `node dist/bench/release-seed.js`: what seeding a new release from the live one costs on
 * the host for a big app, for each way of keeping releases from being edited through each
 * other (docs/architecture.md, "Releases are never linked"). Runs the host-side commands
 * with this machine's /bin/sh and python3 on a local directory, as the host would.
 *
 *   BENCH_FILES (20000): files in the release (100 directories, small .py files, as bench/big-app.ts)
 *   BENCH_FILE_BYTES (0): pad each file to this size, for an app of bigger files
 *   BENCH_RUNS (3): runs per strategy; the median is printed
 *
 * Strategies: `cp -al` (hard links, what the seed was), hard links made read-only (files
 * a-w, dirs 0555, an extra walk), `cp -a` (a plain copy), and the verified copy the deploy
 * uses now (lifecycle/release-seed.ts: each file hashed in the live release, then copied
 * from the object store, checked against its manifest while it is copied), also without a
 * store (the first deploy after an upgrade: copied from the live release).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { sha256Hex } from "../lib/hash";
import { seedReleaseScript } from "../lib/lifecycle/release-seed";

const sh = (script: string, input?: string) => execFileSync("/bin/sh", ["-c", script], { input, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function main(): void {
  const files = Number(process.env.BENCH_FILES ?? "20000");
  const pad = Number(process.env.BENCH_FILE_BYTES ?? "0");
  const runs = Number(process.env.BENCH_RUNS ?? "3");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-release-seed-"));
  try {
    const prev = path.join(dir, "prev");
    // The object store as a deploy leaves it: one copy of each content (here every file differs).
    const store = path.join(dir, ".objects");
    const manifest: Record<string, string> = {};
    for (let i = 0; i < files; i++) {
      const rel = `pkg${String(i % 100).padStart(3, "0")}/module_${String(i).padStart(5, "0")}.py`;
      const text = `N = ${i}\n` + (pad > 0 ? "#".repeat(pad) + "\n" : "");
      fs.mkdirSync(path.join(prev, path.dirname(rel)), { recursive: true });
      fs.writeFileSync(path.join(prev, rel), text, { mode: 0o600 });
      manifest[rel] = sha256Hex(text);
      fs.mkdirSync(store, { recursive: true, mode: 0o700 });
      fs.writeFileSync(path.join(store, manifest[rel]!), text, { mode: 0o400 });
    }
    const kib = Number(sh(`du -sk ${prev} | cut -f1`).trim());
    const storeKib = Number(sh(`du -sk ${store} | cut -f1`).trim());
    console.log(`object store ${(storeKib / 1024).toFixed(1)} MiB on disk (one copy of each content, kept beside the releases)`);
    console.log(`release of ${files} files, ${(kib / 1024).toFixed(1)} MiB on disk (du -k), ${os.cpus().length} CPUs, ${sh(`df -PT ${dir} | tail -1 | awk '{print $2}'`).trim()}`);
    const input = JSON.stringify(manifest);
    const strategies: [string, (next: string) => void][] = [
      ["hard links (cp -al, before)", (next) => sh(`cp -al ${prev} ${next}`)],
      ["hard links, read-only", (next) => sh(`cp -al ${prev} ${next} && find ${next} -type f -exec chmod a-w {} + && find ${next} -type d -exec chmod 0555 {} +`)],
      ["plain copy (cp -a)", (next) => sh(`cp -a ${prev} ${next}`)],
      ["verified copy, no store yet", (next) => sh(`mkdir ${next} && ${seedReleaseScript("/usr/bin/python3", prev, next, path.join(dir, "no-store"))}`, input)],
      ["verified copy from the store (now)", (next) => sh(`mkdir ${next} && ${seedReleaseScript("/usr/bin/python3", prev, next, store)}`, input)],
    ];
    for (const [name, run] of strategies) {
      const times: number[] = [];
      let extra = 0;
      for (let r = 0; r < runs; r++) {
        const next = path.join(dir, `next-${r}`);
        sh("sync");
        const started = process.hrtime.bigint();
        run(next);
        times.push(Number(process.hrtime.bigint() - started) / 1e9);
        // Disk the new release adds next to the previous one (du counts a hard-linked inode once).
        extra = Number(sh(`du -sk ${prev} ${next} | tail -1 | cut -f1`).trim());
        sh(`chmod -R u+w ${next} && rm -rf ${next} && sync`);
      }
      console.log(`${name.padEnd(30)} median ${median(times).toFixed(2)} s (${times.map((t) => t.toFixed(2)).join(", ")}); adds ${(extra / 1024).toFixed(1)} MiB of disk`);
    }
  } finally {
    sh(`chmod -R u+w ${dir}`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
