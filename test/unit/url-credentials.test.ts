import { App, TerraformStack, Testing } from "cdktf";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ApacheMode, Venv, WebshareHost, WsgiApp } from "../../constructs";
import type { VenvProps, WebshareHostProps, WsgiAppProps } from "../../constructs";
import { errors, errorText, WebshareError } from "../../lib/errors";
import { redactUrls, requirementCredentialProblems, secretUrlCredentials } from "../../lib/redact";

const TOKEN = "s3cr3tT0ken";
const FINGERPRINT = "SHA256:" + "A".repeat(43);
const hostProps: WebshareHostProps = { host: "127.0.0.1", user: "wwwshare", privateKeyPath: "k", hostKey: FINGERPRINT, apache: ApacheMode.managed() };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "webshare-creds-"));

function file(name: string, text: string): string {
  const full = path.join(tmp, name);
  fs.writeFileSync(full, text);
  return full;
}

/** The text of what `build` throws (message and stack), or fails the test if it does not throw. */
function thrown(build: () => void): string {
  try {
    build();
  } catch (e) {
    return `${errorText(e)}\n${(e as Error).stack}`;
  }
  throw new Error("expected the construct to be refused, but it was accepted");
}

describe("redactUrls: the one redaction function", () => {
  test.each([
    ["https://user:pw@host/simple", "https://***@host/simple"],
    ["git+https://oauth2:tok@gitlab.example/x.git", "git+https://***@gitlab.example/x.git"],
    ["pkg @ https://TOKEN@host/p.whl ; python_version>'3'", "pkg @ https://***@host/p.whl ; python_version>'3'"],
    ["https://user:p@ss@host/x", "https://***@host/x"],
    ['"https://a:b@h1/" and https://c:d@h2', '"https://***@h1/" and https://***@h2'],
    ["https://host/path@v1 and mail@example.com", "https://host/path@v1 and mail@example.com"],
  ])("%j -> %j", (text, expected) => {
    expect(redactUrls(text)).toBe(expected);
  });

  test("every WebshareError part and errorText of any thrown value are redacted", () => {
    const e = new WebshareError(`cannot fetch https://u:${TOKEN}@h/`, `retry https://${TOKEN}@h/`, `pip said: https://u:${TOKEN}@h/simple`);
    expect(`${e.render()}\n${e.stack}`).not.toContain(TOKEN);
    expect(errorText(new Error(`x https://u:${TOKEN}@h/`))).not.toContain(TOKEN);
    expect(errors.invalidProps("s/v", [`requirements r.txt line 1: option line "--index-url https://u:${TOKEN}@h/simple"`]).message).not.toContain(TOKEN);
  });

  test("a user name over SSH is not a secret; any password, or a token user over https, is", () => {
    expect(secretUrlCredentials("x @ git+ssh://git@github.com/o/x.git")).toEqual([]);
    expect(secretUrlCredentials("x @ git+ssh://git:pw@github.com/o/x.git")).toHaveLength(1);
    expect(secretUrlCredentials(`x @ git+https://${TOKEN}@github.com/o/x.git`)).toHaveLength(1);
  });

  test("a URL continued over lines is found, with the line it starts on", () => {
    expect(requirementCredentialProblems(`a==1\nx @ https://user:\\\n${TOKEN}@host/x.whl\n`)).toEqual([expect.stringMatching(/^line 2: "https:\/\/\*\*\*@host\/x\.whl" must not contain a URL with credentials/)]);
  });
});

describe("credentials planted in every place a URL can appear are refused at synth and never printed", () => {
  const requirementCases: [string, string, boolean][] = [
    ["requirement line (name @ URL)", `flask==3.0\nwebshare-greeting @ https://user:${TOKEN}@files.example/webshare_greeting-1.0-py3-none-any.whl\n`, false],
    ["requirement line (bare URL)", `https://${TOKEN}@files.example/webshare_greeting-1.0-py3-none-any.whl\n`, false],
    ["VCS requirement line", `webshare-greeting @ git+https://oauth2:${TOKEN}@gitlab.example/g/greeting.git@v1\n`, false],
    ["editable line", `-e git+https://${TOKEN}@github.com/o/greeting.git#egg=webshare-greeting\n`, true],
    ["option line", `--index-url https://user:${TOKEN}@pypi.example/simple\nflask==3.0\n`, false],
    ["option line, options allowed", `--extra-index-url https://user:${TOKEN}@pypi.example/simple\nflask==3.0\n`, true],
    ["find-links option", `--find-links=https://user:${TOKEN}@files.example/wheels/\nflask==3.0\n`, true],
    ["inline comment", `flask==3.0  # mirrored from https://user:${TOKEN}@pypi.example/simple\n`, false],
  ];

  test.each(requirementCases)("%s in a requirements file and in a lock file", (_what, text, allowRequirementOptions) => {
    for (const field of ["requirements", "lock"] as const) {
      const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
      const host = new WebshareHost(stack, "host", hostProps);
      const f = file(`${field}-${_what.replace(/\W+/g, "-")}.txt`, text);
      const props: VenvProps = { host, [field]: f, ...(allowRequirementOptions && { allowRequirementOptions }) };
      const message = thrown(() => new Venv(stack, "venv", props));
      expect(message).toContain(`s/venv: invalid props`);
      expect(message).toMatch(new RegExp(`${field} \\S+ line \\d+: "[^"]*\\*\\*\\*@[^"]*" must not contain a URL with credentials`));
      expect(message).not.toContain(TOKEN);
    }
  });

  test.each<[string, Partial<VenvProps>]>([
    ["indexUrl", { indexUrl: `https://user:${TOKEN}@pypi.example/simple` }],
    ["extraIndexUrls", { extraIndexUrls: ["https://pypi.org/simple", `https://__token__:${TOKEN}@pypi.example/simple`] }],
  ])("Venv %s", (field, override) => {
    const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
    const host = new WebshareHost(stack, "host", hostProps);
    const message = thrown(() => new Venv(stack, "venv", { host, requirements: "test/fixtures/apps/blog/requirements.txt", ...override }));
    expect(message).toContain(field);
    expect(message).not.toContain(TOKEN);
  });

  test.each<[string, Partial<WsgiAppProps>]>([
    ["environment", { environment: { DATABASE_URL: `postgres://app:${TOKEN}@db.example/app` } }],
    ["healthCheck.url", { healthCheck: { url: `https://user:${TOKEN}@blog.example/health` } }],
  ])("WsgiApp %s", (field, override) => {
    const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
    const host = new WebshareHost(stack, "host", hostProps);
    const venv = new Venv(stack, "venv", { host, requirements: "test/fixtures/apps/blog/requirements.txt" });
    const message = thrown(() => new WsgiApp(stack, "blog", { host, venv, source: "test/fixtures/apps/blog", entry: "app:app", ...override }));
    expect(message).toContain(`s/blog: invalid props`);
    expect(message).toContain(field);
    expect(message).not.toContain(TOKEN);
  });

  test("WebshareHost self-managed Apache commands", () => {
    const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
    const apache = ApacheMode.selfManaged({ confDir: "/etc/apache2/webshare", testCommand: ["apache2ctl", "configtest"], reloadCommand: ["curl", `https://admin:${TOKEN}@panel.example/reload`] });
    const message = thrown(() => new WebshareHost(stack, "host", { ...hostProps, apache }));
    expect(message).toContain('apache.reloadCommand[1] "https://***@panel.example/reload" must not contain a URL with credentials');
    expect(message).not.toContain(TOKEN);
  });

  test("a stack with SSH VCS URLs and clean index URLs synthesizes without any planted secret", () => {
    const stack = new TerraformStack(new App({ outdir: "cdktf.out" }), "s");
    const host = new WebshareHost(stack, "host", hostProps);
    const lock = file("ssh.lock", "webshare-greeting @ git+ssh://git@github.com/o/greeting.git@v1\n");
    const venv = new Venv(stack, "venv", { host, lock, indexUrl: "https://pypi.example/simple", extraIndexUrls: ["https://pypi.org/simple"] });
    new WsgiApp(stack, "blog", { host, venv, source: "test/fixtures/apps/blog", entry: "app:app", environment: { SITE: "https://blog.example/" } });
    const json = Testing.synth(stack);
    expect(json).toContain("git+ssh://git@github.com/o/greeting.git@v1");
    expect(json).not.toContain(TOKEN);
  });
});
