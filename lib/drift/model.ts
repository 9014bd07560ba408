import type { RestorePlan } from "../releases/restore";

/**
 * What `webshare drift` found, per unit: the data behind the table, Markdown and JSON
 * output, and the exit code (like `terraform plan -detailed-exitcode`). Pure types.
 */

/**
 * Why a package row is drift:
 * - `changed`: the live version is not the desired one (no lock: not the recorded one);
 * - `missing`: desired (or recorded) but not in the live venv;
 * - `unexpected`: in the live venv but not in the lock (no lock: not recorded at deploy);
 * - `unrecorded`: the live venv is right, but freeze.txt says otherwise.
 */
export type PackageProblem = "changed" | "missing" | "unexpected" | "unrecorded";

export interface PackageRow {
  /** PEP 503 normalised name. */
  readonly name: string;
  /** Version from the lock, or "@ <url>"; undefined when not in the lock (or no lock). */
  readonly desired?: string;
  /** Without a lock: the requirement's version specifier ("" for any version). */
  readonly requirement?: string;
  readonly recorded?: string;
  readonly live?: string;
  readonly problem?: PackageProblem;
}

/** The live venv: there and readable by its own interpreter, not there, or broken. */
export type LiveState = { readonly state: "ok"; readonly python: string } | { readonly state: "missing" } | { readonly state: "broken"; readonly error: string };

/**
 * What `--fix` does for a unit; "none" when it did not drift. An app's edited kept releases
 * are restored before its action (alone: "restore-kept-releases").
 */
export type FixAction = "none" | "rebuild-venv" | "rewrite-freeze" | "redeploy-app" | "reinstall-apache-config" | "restore-kept-releases";

export interface VenvDrift {
  readonly kind: "venv";
  readonly unit: string;
  readonly stack: string;
  readonly target: string;
  readonly venvPath: string;
  /** Where the venv link points (readlink), when it is a link. */
  readonly liveTarget?: string;
  readonly hasLock: boolean;
  readonly freezePath: string;
  readonly recorded: "present" | "missing";
  /** Lines of freeze.txt that do not parse (line-numbered). */
  readonly recordedErrors: string[];
  readonly live: LiveState;
  /** Every package seen on any side; `problem` marks the drifted ones. */
  readonly packages: PackageRow[];
  readonly drifted: boolean;
  readonly fix: FixAction;
}

export type FileProblem = "changed" | "missing" | "unexpected";

export interface FileRow {
  readonly path: string;
  readonly problem: FileProblem;
  readonly desired?: string;
  readonly live?: string;
}

export interface ApacheConfigDrift {
  /** Self-managed: the file Apache includes; managed: the snippet kept for the hoster. */
  readonly path: string;
  readonly mode: "self" | "managed";
  readonly state: "ok" | "changed" | "missing";
  /** Lines only in the installed config / only in the rendered (desired) one. */
  readonly onlyLive: string[];
  readonly onlyDesired: string[];
}

/** A kept release (one `webshare rollback` may switch to) compared with its own manifest. */
export interface KeptReleaseDrift {
  readonly id: string;
  /** Files that differ from what was deployed into it (its manifest); empty: intact. */
  readonly files: FileRow[];
  /** How --fix (and rollback) would restore it; `unavailable` non-empty: it cannot be. */
  readonly restore: RestorePlan;
}

export interface AppDrift {
  readonly kind: "app";
  readonly unit: string;
  readonly stack: string;
  readonly target: string;
  readonly appDir: string;
  readonly liveTarget?: string;
  readonly deployed: boolean;
  /** Files compared (desired side, entry point included). */
  readonly checkedFiles: number;
  readonly files: FileRow[];
  readonly apacheConfig: ApacheConfigDrift;
  /** Every kept release that rollback may pick (ready, not live), intact or not. */
  readonly kept?: KeptReleaseDrift[];
  readonly drifted: boolean;
  readonly fix: FixAction;
}

export type UnitDrift = VenvDrift | AppDrift;

/** A unit recorded on the host for a WebshareHost of the stacks, but declared by none of them. */
export interface OrphanDrift {
  readonly unit: string;
  readonly kind: "venv" | "app";
  readonly target: string;
  /** The WebshareHost whose inventory removes it on the next deploy. */
  readonly host: string;
  readonly record: string;
  /** Its Apache config (self-managed: still included by Apache) or snippet. */
  readonly apacheConfig?: string;
  /** Home-relative paths it still owns (those no declared unit uses). */
  readonly paths: string[];
}

/** A host that could not be checked (or fixed): which one, which units, and why. */
export interface HostFailure {
  readonly target: string;
  readonly units: string[];
  readonly message: string;
}

export interface FixOutcome {
  readonly unit: string;
  readonly target: string;
  readonly action: FixAction;
  readonly ok: boolean;
  readonly message?: string;
}

export interface DriftReport {
  readonly units: UnitDrift[];
  readonly failures: HostFailure[];
  readonly hosts: number;
  /** Wall time of the check (connect + one probe per host, in parallel), fixes excluded. */
  readonly seconds: number;
  /** Units recorded on the hosts that the stacks no longer declare (drift: the next deploy removes them). */
  readonly orphans?: OrphanDrift[];
  /** With --fix: what was done, and the state checked again afterwards. */
  readonly fixes?: FixOutcome[];
  readonly after?: UnitDrift[];
  /** Hosts that could not be checked again after their fixes. */
  readonly afterFailures?: HostFailure[];
}

const EXIT_NO_DRIFT = 0;
const EXIT_ERROR = 1;
const EXIT_DRIFT = 2;

/** 1 if any host failed or a fix failed, else 2 if drift remains, else 0. */
export function exitCodeOf(report: DriftReport): number {
  if (report.failures.length > 0 || (report.afterFailures ?? []).length > 0 || (report.fixes ?? []).some((f) => !f.ok)) return EXIT_ERROR;
  const final = report.after ?? report.units;
  return final.some((u) => u.drifted) || (report.orphans ?? []).length > 0 ? EXIT_DRIFT : EXIT_NO_DRIFT;
}
