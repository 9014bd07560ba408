import { commandLine } from "../shell";
import { errors } from "../errors";
import type { RestorePlan } from "../releases/restore";
import type { StepContext } from "./context";
import type { AppUnitSpec } from "../spec";
import { releaseModesScript } from "./modes";

/**
 * Put a kept release back to what was deployed into it (`releases/restore.ts` plans it):
 * each copy is read from a file that holds the deployed content, checked against its sha256
 * while it is written to a temp file beside the target, and renamed over the target (so a
 * file shared with another dir is never written through); files that were not deployed
 * are removed. Run under the host lock by `webshare rollback` and `drift --fix`.
 */
const RESTORE_PY = `import hashlib, json, os, stat, sys
plan = json.load(sys.stdin)
root = plan["dir"]
bad = []
for c in plan["copies"]:
    dst = os.path.join(root, c["to"])
    tmp = dst + ".webshare-restore"
    try:
        st = os.lstat(dst) if os.path.lexists(dst) else os.stat(c["from"])
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(tmp):
            os.unlink(tmp)
        h = hashlib.sha256()
        with open(c["from"], "rb") as fi, os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fo:
            for block in iter(lambda: fi.read(1 << 20), b""):
                h.update(block)
                fo.write(block)
        if h.hexdigest() != c["sha256"]:
            os.unlink(tmp)
            bad.append(c["to"])
            continue
        os.chmod(tmp, stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else 0o600)
        if os.path.isdir(dst) and not os.path.islink(dst):
            bad.append(c["to"])
            os.unlink(tmp)
            continue
        os.replace(tmp, dst)
    except OSError as e:
        bad.append("%s (%s)" % (c["to"], e.strerror))
for rel in plan["remove"]:
    p = os.path.join(root, rel)
    try:
        if os.path.lexists(p) and not os.path.isdir(p):
            os.unlink(p)
    except OSError as e:
        bad.append("%s (%s)" % (rel, e.strerror))
if bad:
    print("\\n".join(bad))
    sys.exit(3)
`;

/**
 * Restore a kept release by its plan (which must have nothing unavailable), then give it the
 * modes a release gets at its switch (lifecycle/modes.ts): a file copied from the store is
 * 0400 there, and a static file must be readable by Apache's own workers again.
 */
export async function restoreKept(ctx: StepContext, spec: AppUnitSpec, id: string, plan: RestorePlan): Promise<void> {
  const script = `${commandLine([spec.host.python, "-c", RESTORE_PY])} && ${releaseModesScript(spec.host.python, spec, plan.dir)}`;
  const result = await ctx.session.runRaw(ctx.place, "restore kept release", script, JSON.stringify({ dir: plan.dir, copies: plan.copies, remove: plan.remove }));
  if (result.code !== 0) throw errors.keptReleaseNotRestored(ctx.place, id, `${result.stdout}\n${result.stderr}`.trim());
}

/** Take a kept release out of what rollback offers: it is no longer ready (prune removes it later). */
export async function retireKept(ctx: StepContext, dir: string): Promise<void> {
  await ctx.session.run(ctx.place, "retire kept release", commandLine(["rm", "-f", `${dir}/.webshare-ready`]));
}
