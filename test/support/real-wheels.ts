import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { REPO } from "./local-host";

/**
 * Wheels of real Flask 2.2, Django 3.2 and their dependencies, made from Debian's installed
 * packages by scripts/real-wheels/build.py (there is no PyPI on the test machines).
 * Debian's own /usr/bin/python3 runs the builder: it reads Debian's files, and one zlib keeps
 * the wheels byte-identical from run to run.
 */
export const REAL_WHEELS_BUILDER = path.join(REPO, "scripts/real-wheels/build.py");
export const REAL_WHEELS_PYTHON = "/usr/bin/python3";

/** Run the builder into `dir` (no cache). Throws with the builder's message, e.g. which Debian packages to install. */
export function runRealWheelBuilder(dir: string): string[] {
  try {
    execFileSync(REAL_WHEELS_PYTHON, [REAL_WHEELS_BUILDER, dir], { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${REAL_WHEELS_PYTHON} ${REAL_WHEELS_BUILDER} ${dir} failed: ${(e.stderr ?? "").trim() || e.message}`);
  }
  return fs.readdirSync(dir).filter((f) => f.endsWith(".whl")).sort();
}

const built = new Set<string>();

/** Write the real wheelhouse into `dir`, once per directory per process. */
export function buildRealWheelhouse(dir: string): void {
  const key = path.resolve(dir);
  if (built.has(key) && fs.existsSync(key)) return;
  runRealWheelBuilder(key);
  built.add(key);
}

/**
 * The entries of a wheel (a zip), name -> content, read with node's zlib alone: the tests
 * check the builder's zips without trusting Python's zipfile. Stored and deflated entries.
 */
export function readWheel(file: string): Map<string, Buffer> {
  const zip = fs.readFileSync(file);
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error(`${file}: not a zip (no end of central directory)`);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${i}`);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(dataStart, dataStart + compressedSize);
    if (method !== 0 && method !== 8) throw new Error(`${file}: ${name}: compression method ${method}`);
    entries.set(name, method === 8 ? zlib.inflateRawSync(raw) : Buffer.from(raw));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
