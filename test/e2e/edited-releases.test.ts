import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CdktfProject } from "../support/cdktf-project";
import { httpGet, localHost, makeWheelhouse, resetHome, sshRun, Target } from "../support/local-host";
import { webshare } from "../support/webshare-cli";

/**
 * Releases cannot be edited through each other (issue 13, item 5), against the real host:
 * a hand edit of the live release over SSH (in place with `printf >>`, and by replacing the
 * file with `sed -i`) changes no kept release, is not carried into the next deploy, is named
 * by `webshare drift` once that release is kept, and a rollback serves what was deployed
 * (restored from the object store or another release), or refuses when that content is gone.
 * Tests run in order and build on each other.
 */
let target: Target;
let project: CdktfProject;
const wheelhouse = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-wheels-"));
const RELEASES = "private/releases/public";
const home = (p: string) => path.join(target.home, p);
const ids: Record<string, string> = {};
const DEMO = fs.readFileSync(path.join(__dirname, "../../../examples/demo-app/app.py"), "utf8");
/** The demo app, saying the word words.py holds; `version` only changes a comment. */
const appPy = (version: string) => `# ${version}\nimport words\n${DEMO.replace('f"Hello from', 'f"{words.WORD} from')}`;

/** mod_wsgi restarts the daemon on the next request after a touch: poll briefly. */
async function waitForBody(text: string): Promise<string> {
  let body = "";
  for (let i = 0; i < 50 && !body.includes(text); i++) {
    body = (await httpGet(target.url)).body;
    if (!body.includes(text)) await new Promise((r) => setTimeout(r, 200));
  }
  return body;
}

function deploy(): string {
  const result = project.webshareDeploy();
  if (result.code !== 0) throw new Error(`deploy failed:\n${result.output}`);
  return fs.readlinkSync(home("public")).split("/").pop()!;
}

beforeAll(() => {
  target = localHost().managed;
  resetHome(target.user);
  makeWheelhouse(wheelhouse);
  project = new CdktfProject(target, wheelhouse, "ed");
  project.env.WEBSHARE_HEALTH_TIMEOUT = "8";
  project.write("words.py", 'WORD = "Original"\n');
  project.write("app.py", appPy("v1"));
  ids.first = deploy();
  project.write("app.py", appPy("v2"));
  ids.second = deploy();
}, 300_000);

afterAll(() => project?.remove());

test("an edit of the live release in place and by replacing a file serves, and leaves the kept release as deployed", async () => {
  expect((await httpGet(target.url)).body).toBe("Original from the webshare demo app: greeting 1.0.0\n");
  sshRun(target, `printf 'WORD = "Edited"\\n' >> public/words.py && sed -i 's/# v2/# v2, edited/' public/app.py && touch public/wwwshare.wsgi`);
  expect(await waitForBody("Edited")).toBe("Edited from the webshare demo app: greeting 1.0.0\n");
  // words.py is the same in both releases; a hard-linked seed shared its inode with the kept one.
  expect(fs.readFileSync(home(`${RELEASES}/${ids.first}/words.py`), "utf8")).toBe('WORD = "Original"\n');
  expect(fs.statSync(home(`${RELEASES}/${ids.first}/words.py`)).ino).not.toBe(fs.statSync(home(`${RELEASES}/${ids.second}/words.py`)).ino);
});

test("the next deploy does not carry the edit over, and says so (app.py changes anyway, so only words.py is named)", async () => {
  project.write("app.py", appPy("v3"));
  const result = project.webshareDeploy();
  expect({ code: result.code, output: result.code === 0 ? "" : result.output }).toEqual({ code: 0, output: "" });
  ids.third = fs.readlinkSync(home("public")).split("/").pop()!;
  expect(result.output).toContain(`[ed/app] note: the live release ${ids.second} differs on the host from what was deployed (words.py): the new release gets the deployed content, and ${ids.second} keeps the edits (webshare drift names it)`);
  expect((await httpGet(target.url)).body).toBe("Original from the webshare demo app: greeting 1.0.0\n");
  expect(fs.readFileSync(home("public/words.py"), "utf8")).toBe('WORD = "Original"\n');
});

test("drift names the edited kept release and its files (exit 2); the live release is in sync", () => {
  const result = webshare(project, ["drift"]);
  expect(result.code).toBe(2);
  expect(result.output).toContain(`ed/app (app) on ${target.user}@${target.host}:${target.port}: DRIFTED`);
  expect(result.output).toMatch(/release public -> \S+: (\d+) of \1 files match/);
  expect(result.output).toContain(
    `  kept release ${ids.second}: EDITED on the host since it was deployed (2 files differ from its manifest)\n    app.py: content changed on the host\n    words.py: content changed on the host\n    fix: restore it (`,
  );
  expect(result.output).toContain("1 kept release matches its manifest");
});

test("rollback to the edited release restores what was deployed into it first: it serves the original content", async () => {
  const result = webshare(project, ["rollback", "ed/app"]);
  expect({ code: result.code, output: result.code === 0 ? "" : result.output }).toEqual({ code: 0, output: "" });
  expect(result.output).toContain(`[ed/app] check release ${ids.second} (edited on the host since it was deployed: app.py changed, words.py changed; restored: 2 copied back from releases on the host, 0 removed)`);
  expect(result.output).toContain(`ed/app: rolled back from release ${ids.third} to ${ids.second}`);
  expect((await httpGet(target.url)).body).toBe("Original from the webshare demo app: greeting 1.0.0\n");
  // app.py of v2 is in no other release: it came back from the object store.
  expect([fs.readFileSync(home("public/words.py"), "utf8"), fs.readFileSync(home("public/app.py"), "utf8")]).toEqual(['WORD = "Original"\n', appPy("v2")]);
  // Forward again: the desired release is live, so drift compares only the kept ones.
  expect(webshare(project, ["rollback", "ed/app", "--to", ids.third]).output).toContain(`[ed/app] check release ${ids.third} (holds what was deployed)`);
  expect(webshare(project, ["drift"]).code).toBe(0);
});

test("a kept release whose deployed content is gone: rollback refuses it, drift --fix says it cannot restore it and retires it, and restores the other", async () => {
  // v1's app.py is only in the first release and the store (removed here); words.py's deployed content is in every release.
  sshRun(target, `rm -rf ${RELEASES}/.objects && printf '# edited\\n' >> ${RELEASES}/${ids.first}/app.py && printf 'WORD = "Edited"\\n' >> ${RELEASES}/${ids.second}/words.py`);
  const refused = webshare(project, ["rollback", "ed/app", "--to", ids.first]);
  expect(refused.code).toBe(1);
  expect(refused.output).toContain(`release ${ids.first} was edited on the host since it was deployed (app.py changed), and it cannot be restored: no release on the host holds the deployed content of app.py any more; refusing to switch to an edited release, nothing was changed`);
  expect(fs.readlinkSync(home("public")).endsWith(ids.third)).toBe(true);

  const fixed = webshare(project, ["drift", "--fix"]);
  expect(fixed.code).toBe(1);
  expect(fixed.output).toContain(`[ed/app] restore kept release ${ids.second} (1 file copied back from releases on the host, 0 removed)`);
  expect(fixed.output).toContain(`cannot restore kept release ${ids.first} (app.py): no release on the host holds that deployed content any more; retired (rollback no longer offers it)`);
  expect(fixed.output).toContain("After --fix: no drift in 2 units.");
  expect(fs.readFileSync(home(`${RELEASES}/${ids.second}/words.py`), "utf8")).toBe('WORD = "Original"\n');
  expect(webshare(project, ["drift"]).code).toBe(0);
  expect(webshare(project, ["rollback", "ed/app", "--to", ids.first]).output).toContain(`no ready release "${ids.first}" is kept on the host`);
  expect((await httpGet(target.url)).body).toBe("Original from the webshare demo app: greeting 1.0.0\n");
});
