import * as fs from "node:fs";
import * as path from "node:path";
import { HostSession } from "../../lib/ssh/session";
import type { ConnectionSpec, UnitSpec } from "../../lib/spec";
import type { SynthesizedUnit } from "../../lib/stacks/read";
import { selectUnits } from "../../lib/stacks/read";
import { fetchFreezes, freezeOutFile } from "../../lib/cli/freeze";
import { listReleases } from "../../lib/cli/releases";
import type { HostCommandIo } from "../../lib/host/each-host";
import { LocalShellSession, tempHome } from "../support/local-shell-session";
import { appSpec, host, venvSpec } from "./drift-fixtures";

/**
 * `webshare freeze` and `webshare releases` read many units: one session per host (not one
 * login per unit), hosts in parallel, each against a fake host (LocalShellSession: the real
 * scripts with /bin/sh on a temp home) that counts how often it was opened.
 */
const homes = new Map<string, string>();
const opens: string[] = [];
let open = 0;
let maxOpen = 0;

function hostNamed(name: string, hostName: string) {
  const home = tempHome(`webshare-per-host-${hostName}`);
  homes.set(hostName, home);
  return { ...host, name, home, python: "python3", connection: { ...host.connection, host: hostName } };
}
const unit = (spec: UnitSpec): SynthesizedUnit => ({ stack: "site", address: `terraform_data.${spec.unit.replace(/\W/g, "_")}`, spec });

const hostA = hostNamed("site/a/host", "a.example");
const hostB = hostNamed("site/b/host", "b.example");
const units = [
  unit(venvSpec({ unit: "site/a/venv", host: hostA })),
  unit(venvSpec({ unit: "site/b/venv", host: hostB })),
  unit(venvSpec({ unit: "site/a/venv2", host: hostA, venvPath: "private/venv2", venvsDir: "private/venvs/private-venv2", freezePath: "private/freeze2.txt" })),
  unit({ ...appSpec, unit: "site/a/app", host: hostA }),
];
const io: HostCommandIo = { cwd: "/", env: {}, write: () => undefined, log: () => undefined };

beforeEach(() => {
  opens.length = 0;
  maxOpen = 0;
  jest.spyOn(HostSession, "open").mockImplementation(async (connection: ConnectionSpec) => {
    opens.push(connection.host);
    maxOpen = Math.max(maxOpen, ++open);
    const session = new LocalShellSession(homes.get(connection.host)!);
    const dispose = session.dispose.bind(session);
    session.dispose = () => {
      open--;
      dispose();
    };
    // Let the other host's open start before this one's work: they run in parallel.
    await new Promise((r) => setTimeout(r, 20));
    return session as unknown as HostSession;
  });
});
afterEach(() => jest.restoreAllMocks());
afterAll(() => {
  for (const home of homes.values()) fs.rmSync(home, { recursive: true, force: true });
});

test("freeze reads each Venv's freeze.txt over one session per host, hosts in parallel, in the units' order", async () => {
  fs.mkdirSync(path.join(homes.get("a.example")!, "private"), { recursive: true });
  fs.writeFileSync(path.join(homes.get("a.example")!, "private/freeze.txt"), "flask==3.0.0\n");
  fs.writeFileSync(path.join(homes.get("a.example")!, "private/freeze2.txt"), "it's==1.0\n");
  const venvs = units.filter((u) => u.spec.kind === "venv");
  const freezes = await fetchFreezes(venvs, io);
  expect(freezes.map((f) => [f.unit, f.text])).toEqual([
    ["site/a/venv", "flask==3.0.0\n"],
    // Never deployed (or deleted): missing, not an error that hides the others.
    ["site/b/venv", undefined],
    ["site/a/venv2", "it's==1.0\n"],
  ]);
  expect(opens.sort()).toEqual(["a.example", "b.example"]);
  expect(maxOpen).toBe(2);
  expect(open).toBe(0);
});

test("releases of 4 units on 2 hosts logs in twice, not four times", async () => {
  const listings = await listReleases(units, io);
  expect(listings.map((l) => [l.unit, l.kind, l.entries.length])).toEqual([
    ["site/a/venv", "venv", 0],
    ["site/b/venv", "venv", 0],
    ["site/a/venv2", "venv", 0],
    ["site/a/app", "app", 0],
  ]);
  expect(opens.sort()).toEqual(["a.example", "b.example"]);
  expect(maxOpen).toBe(2);
  expect(open).toBe(0);
});

test("a WebshareHost's construct path (or a prefix of it) selects every unit on that host", () => {
  expect(selectUnits(units, "site/a/host").map((u) => u.spec.unit)).toEqual(["site/a/venv", "site/a/venv2", "site/a/app"]);
  expect(selectUnits(units, "site/b").map((u) => u.spec.unit)).toEqual(["site/b/venv"]);
  expect(selectUnits(units, "site/a/venv").map((u) => u.spec.unit)).toEqual(["site/a/venv"]);
  expect(selectUnits(units, "site/c")).toEqual([]);
});

test("--out names each file after the construct path, so no two Venvs share one", () => {
  expect(freezeOutFile("/out", "site/a/venv")).toBe("/out/site/a/venv.freeze.txt");
  expect(freezeOutFile("/out", "site/a/venv2")).toBe("/out/site/a/venv2.freeze.txt");
});
