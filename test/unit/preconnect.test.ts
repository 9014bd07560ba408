import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hostsLikelyToChange, hostsWithChangedInputs, predictChangedHosts } from "../../lib/cdktf/preconnect";
import { localStateFile, readPreviousSynth } from "../../lib/cdktf/previous-synth";
import { hashTree } from "../../lib/local-files";
import { installIdentity } from "../../lib/install-identity";
import { SessionPool } from "../../lib/ssh/broker-pool";
import type { ResolvedConnection } from "../../lib/ssh/resolve";
import { appSpec, host, venvSpec } from "./drift-fixtures";

/**
 * `webshare deploy` connects ahead of the engine to the hosts whose units differ from the
 * local state (lib/cdktf/preconnect.ts): which hosts, from which state file, and never one
 * for a stack that matches its state.
 */
const other = { ...host, name: "site/other", connection: { ...host.connection, host: "other.example" } };
const stack = (venvKey: string, appKey: string) => ({
  terraform: { backend: { local: { path: "state/site.tfstate" } } },
  resource: {
    terraform_data: {
      venv_deploy_C546ADFE: { "//": { metadata: { path: "site/venv/deploy" } }, input: venvSpec(), triggers_replace: { deploy: venvKey } },
      app_deploy_8C7201CF: { "//": { metadata: { path: "site/app/deploy" } }, input: { ...appSpec, host: other }, triggers_replace: { deploy: appKey } },
    },
  },
});
const state = (keys: Record<string, string>) =>
  JSON.stringify({
    version: 4,
    resources: Object.entries(keys).map(([name, deploy]) => ({ mode: "managed", type: "terraform_data", name, instances: [{ attributes: { triggers_replace: { value: { deploy } } } }] })),
  });

describe("the hosts a deploy will change, guessed from the local state", () => {
  test("only the hosts of units whose deploy key the state does not record; none when all match", () => {
    const recorded = state({ venv_deploy_C546ADFE: "v1", app_deploy_8C7201CF: "a1" });
    expect(hostsLikelyToChange("site", stack("v1", "a1"), recorded)).toEqual([]);
    expect(hostsLikelyToChange("site", stack("v1", "a2"), recorded).map((c) => c.host)).toEqual(["other.example"]);
    expect(hostsLikelyToChange("site", stack("v2", "a2"), recorded).map((c) => c.host)).toEqual(["other.example", "web.example"]); // in unit order (site/app, site/venv)
  });

  test("no state yet (a first deploy): every host, each once", () => {
    const both = { ...stack("v1", "a1") };
    (both.resource.terraform_data.app_deploy_8C7201CF.input as { host: unknown }).host = host;
    expect(hostsLikelyToChange("site", both, undefined).map((c) => c.host)).toEqual(["web.example"]);
  });

  test("the state file of a local backend (relative to the stack dir, or the default); none for another backend or a workspace", () => {
    expect(localStateFile({ terraform: { backend: { local: { path: "/abs/x.tfstate" } } } }, "/stack", {})).toBe("/abs/x.tfstate");
    expect(localStateFile({ terraform: { backend: { local: { path: "rel/x.tfstate" } } } }, "/stack", {})).toBe("/stack/rel/x.tfstate");
    expect(localStateFile({}, "/stack", {})).toBe("/stack/terraform.tfstate");
    expect(localStateFile({ terraform: { backend: { pg: { conn_str: "postgres://x" } } } }, "/stack", {})).toBeUndefined();
    expect(localStateFile({}, "/stack", { TF_WORKSPACE: "staging" })).toBeUndefined();
  });

  test("read from a synthesized stack dir; anything unreadable guesses nothing", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-preconnect-"));
    try {
      expect(predictChangedHosts("site", dir, {})).toEqual([]); // no cdk.tf.json
      fs.writeFileSync(path.join(dir, "cdk.tf.json"), JSON.stringify(stack("v1", "a2")));
      fs.mkdirSync(path.join(dir, "state"));
      fs.writeFileSync(path.join(dir, "state/site.tfstate"), state({ venv_deploy_C546ADFE: "v1", app_deploy_8C7201CF: "a1" }));
      expect(predictChangedHosts("site", dir, {}).map((c) => c.host)).toEqual(["other.example"]);
      fs.writeFileSync(path.join(dir, "state/site.tfstate"), "{ not json");
      expect(predictChangedHosts("site", dir, {})).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the hosts guessed while the app synthesizes, from the previous synth and the files on disk", () => {
  test("a host connects early only when its units' files differ from the last synth (or the state lacks them); a no-op connects nothing", () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-early-"));
    const outdir = path.join(project, "cdktf.out");
    try {
      fs.mkdirSync(path.join(project, "app/static"), { recursive: true });
      fs.writeFileSync(path.join(project, "app/app.py"), "app = 1\n");
      fs.writeFileSync(path.join(project, "app/static/x.css"), "a {}\n");
      fs.writeFileSync(path.join(project, "requirements.lock"), "flask==3.0.0\n");
      const files = hashTree(path.join(project, "app"), appSpec.exclude);
      const synthesized = stack("v1", "a1");
      synthesized.resource.terraform_data.venv_deploy_C546ADFE.input = venvSpec({ lockFile: "requirements.lock", installSha256: installIdentity("flask==3.0.0\n") });
      synthesized.resource.terraform_data.app_deploy_8C7201CF.input = { ...appSpec, host: other, files };
      const dir = path.join(outdir, "stacks/site");
      fs.mkdirSync(path.join(dir, "state"), { recursive: true });
      fs.writeFileSync(path.join(dir, "cdk.tf.json"), JSON.stringify(synthesized));
      fs.writeFileSync(path.join(dir, "state/site.tfstate"), state({ venv_deploy_C546ADFE: "v1", app_deploy_8C7201CF: "a1" }));
      const guess = () => hostsWithChangedInputs(readPreviousSynth(outdir, undefined, {})!, project).map((c) => c.host);

      expect(guess()).toEqual([]); // nothing changed: a no-op opens no connection
      fs.writeFileSync(path.join(project, "app/app.py"), "app = 2\n");
      expect(guess()).toEqual(["other.example"]); // the app's host only
      fs.writeFileSync(path.join(project, "app/app.py"), "app = 1\n");
      fs.writeFileSync(path.join(project, "app/app.pyc"), "excluded"); // the synth's own excludes
      expect(guess()).toEqual([]);
      fs.writeFileSync(path.join(project, "requirements.lock"), "# pinned\nflask==3.0.0\n"); // the same by meaning
      expect(guess()).toEqual([]);
      fs.writeFileSync(path.join(project, "requirements.lock"), "flask==3.0.1\n");
      expect(guess()).toEqual(["web.example"]);
      // A state that does not record the last synth (it never deployed, or failed): its hosts too.
      fs.writeFileSync(path.join(project, "requirements.lock"), "flask==3.0.0\n");
      fs.writeFileSync(path.join(dir, "state/site.tfstate"), state({ venv_deploy_C546ADFE: "v1" }));
      expect(guess()).toEqual(["other.example"]);
      // Several stacks and none named, or no previous synth: no early guess at all.
      fs.mkdirSync(path.join(outdir, "stacks/other"));
      expect(readPreviousSynth(outdir, undefined, {})).toBeUndefined();
      expect(readPreviousSynth(outdir, "site", {})?.stack).toBe("site");
      expect(readPreviousSynth(path.join(project, "nowhere"), "site", {})).toBeUndefined();
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });
});

test("closing the broker's pool does not wait for a connect still under way (a pre-connect to a host that is down)", async () => {
  const pool = new SessionPool<{ alive: boolean; dispose(): void }>(() => new Promise(() => undefined));
  void pool.acquire({ route: "x" } as unknown as ResolvedConnection).catch(() => undefined);
  await expect(pool.close()).resolves.toBeUndefined();
});
