import { diffFiles, KeptListing, neverServed, orderKept, previousOf, summarize } from "../../lib/releases/model";
import { renderReleasesText } from "../../lib/releases/render";

const A = "aaaaaaaaaaaaaaaa";
const B = "bbbbbbbbbbbbbbbb";
const C = "cccccccccccccccc";
const venvs = (current: string | undefined, history: string[], extra: Partial<Record<string, { ready?: boolean; builtAt?: number }>> = {}): KeptListing => ({
  now: 10_000,
  current,
  history,
  dirs: [
    { id: A, ready: true, builtAt: 1_000, detail: "webshare-greeting==1.0.0\n", ...extra[A] },
    { id: B, ready: true, builtAt: 5_000, detail: "webshare-greeting==2.0.0\n", ...extra[B] },
    { id: C, ready: true, builtAt: 9_000, detail: "webshare-greeting==2.0.0\nwebshare-extra==1.1.0\n", ...extra[C] },
  ],
});

describe("what rollback switches to", () => {
  test("the one deployed before the current one; again, the one before that", () => {
    expect(previousOf(venvs(C, [A, B, C]))).toBe(B);
    expect(previousOf(venvs(B, [A, B, C]))).toBe(A);
    expect(previousOf(venvs(A, [A, B, C]))).toBeUndefined();
  });

  test("follows the deploy history, not build times (going back to an earlier lock reuses its venv)", () => {
    expect(previousOf(venvs(A, [B, C, A]))).toBe(C);
  });

  test("never a half-built dir, nor one whose deploy failed (built, but not in the history)", () => {
    expect(previousOf(venvs(C, [A, B, C], { [B]: { ready: false } }))).toBe(A);
    expect(previousOf(venvs(C, [C]))).toBeUndefined();
    expect(previousOf(venvs(undefined, [A, B]))).toBe(B);
  });

  test("served dirs are ordered by the history, oldest first; the others never served", () => {
    expect(orderKept(venvs(C, [A, C, A, B])).map((d) => d.id)).toEqual([C, A, B]);
    expect(neverServed(venvs(C, [C])).map((d) => d.id)).toEqual([B, A]);
  });
});

test("a venv listing says what switching to each one changes, newest first", () => {
  const rows = summarize("venv", venvs(C, [A, B, C]));
  expect(rows.map((r) => [r.id, r.current, r.rollbackTarget, r.ageSeconds])).toEqual([
    [C, true, false, 1000],
    [B, false, true, 5000],
    [A, false, false, 9000],
  ]);
  expect(rows[1].packageChanges!.removed).toEqual([{ name: "webshare-extra", version: "1.1.0" }]);
  expect(renderReleasesText([{ unit: "demo/venv", kind: "venv", target: "u@h:22", link: "private/venv", keep: 2, entries: rows }])).toBe(
    [
      "demo/venv on u@h:22: 3 venvs kept for private/venv (keep 2 previous)",
      `  * ${C}  17 min  2 packages  serving`,
      `  < ${B}  83 min  1 package   switching to it: -webshare-extra 1.1.0`,
      `    ${A}  3 h     1 package   switching to it: webshare-greeting 2.0.0 -> 1.0.0, -webshare-extra 1.1.0`,
      "* serving   < what `webshare rollback` switches to   x never served   age: since it was built",
      "",
    ].join("\n"),
  );
});

test("a dir whose deploy failed is listed as never served, never as the rollback target", () => {
  const rows = summarize("venv", venvs(B, [A, B]));
  expect(rows.map((r) => [r.id, r.current, r.rollbackTarget, r.neverServed])).toEqual([
    [B, true, false, false],
    [A, false, true, false],
    [C, false, false, true],
  ]);
  const text = renderReleasesText([{ unit: "demo/venv", kind: "venv", target: "u@h:22", link: "private/venv", keep: 2, entries: rows }]);
  expect(text).toContain(`  x ${C}  17 min  2 packages  never served (its deploy failed); switching to it: +webshare-extra 1.1.0`);
});

test("an app listing counts files and names the changed ones", () => {
  const listing: KeptListing = {
    now: 100,
    current: B,
    history: [A, B],
    dirs: [
      { id: A, ready: true, builtAt: 40, detail: JSON.stringify({ "app.py": "1", "wwwshare.wsgi": "w" }) },
      { id: B, ready: true, builtAt: 90, detail: JSON.stringify({ "app.py": "2", "wwwshare.wsgi": "w", "static/x.css": "s" }) },
    ],
  };
  const rows = summarize("app", listing);
  expect(rows.map((r) => [r.id, r.fileCount])).toEqual([[B, 3], [A, 2]]);
  expect(rows[1].fileChanges).toEqual({ added: [], removed: ["static/x.css"], changed: ["app.py"] });
  expect(renderReleasesText([{ unit: "demo/app", kind: "app", target: "u@h:22", link: "public", keep: 2, entries: rows }])).toContain(`< ${A}  60s  2 files  switching to it: 1 changed (app.py), 1 removed`);
});

test("diffFiles", () => {
  expect(diffFiles({ a: "1", b: "2" }, { b: "3", c: "4" })).toEqual({ added: ["c"], removed: ["a"], changed: ["b"] });
});
