import { renderRun } from "../../bench/report";

/** `npm run bench:report`: a bench run's JSON becomes a markdown run section with an RTT column. */
const row = (rttMs: number, scenario: string, manual: number, webshare: number, turns?: { manual: number; webshare: number }) => ({
  rttMs,
  scenario,
  title: scenario,
  seconds: { manual, webshare },
  ratio: { manual: 1, webshare: webshare / manual },
  connections: { manual: 1, webshare: 1 },
  turns: turns ?? {},
  tcpConnections: turns === undefined ? {} : { manual: 1, webshare: 1 },
  bestPeer: "manual" as const,
  target: 0.5,
  judged: { webshare: { ratio: webshare / manual, met: webshare / manual <= 0.5 } },
});

const results = {
  generatedAt: "2026-11-29T20:00:00.000Z",
  tree: { commit: "a94b4a3aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", uncommitted: [] },
  machine: { cpus: 2, loadAtStart: [1, 1, 1], loadAtEnd: [2, 2, 2] },
  settings: { repeats: 1, rttsMs: [0, 100], padKb: 1024 },
  unavailable: { ansible: "not installed" },
  table: [row(0, "requirements", 4, 2), row(100, "requirements", 10, 12, { manual: 30, webshare: 96 })],
  floors: [{ rttMs: 100, ssh2: { connectTurns: 11, exchangeTurns: 5, turns: 16, seconds: 1.02, connectSeconds: 0.79 }, openssh: { turns: 16, seconds: 1.2 } }],
  runs: [
    { tool: "manual" as const, repeat: 1, scenario: "requirements", rttMs: 0, seconds: 4, ok: true, load: 1.5 },
    { tool: "webshare" as const, repeat: 1, scenario: "requirements", rttMs: 100, seconds: 12, ok: false, load: 3 },
  ],
};

test("one row per RTT and scenario, ratios judged against the target, turns only where the proxy ran", () => {
  const text = renderRun(results);
  expect(text).toContain("| RTT | scenario | manual | `webshare deploy` | target | `webshare deploy` / best |");
  expect(text).toContain("| 0 ms | requirements change | 4.00 | 2.00 | <= 0.5x | 0.50x: met |");
  expect(text).toContain("| 100 ms | requirements change | 10.00 | 12.00 | <= 0.5x | 1.20x: missed |");
  expect(text).toContain("| 0 ms | requirements change | 1 / - / - | 1 / - / - |");
  expect(text).toContain("| 100 ms | requirements change | 1 / 30 / 1 | 1 / 96 / 1 |");
  expect(text).toContain("**16 turns, 1.02 s**");
  expect(text).toContain("manual 30 (1.9x), `webshare deploy` 96 (6.0x)");
  expect(text).toContain("| 100 ms | requirements change |  | FAILED |");
  expect(text).toContain("ansible: unavailable: not installed");
});

test("our deploys' verify wait is shown apart: the whole deploy, the rest, the wait", () => {
  const verified = {
    ...results,
    runs: [
      ...results.runs,
      { tool: "webshare" as const, repeat: 1, scenario: "requirements", rttMs: 0, seconds: 2, ok: true, load: 1, steps: [{ step: "pip install", seconds: 0.6 }, { step: "verify reload", seconds: 0.8 }] },
    ],
  };
  const text = renderRun(verified);
  expect(text).toContain("| RTT | scenario | `webshare deploy` |");
  expect(text).toContain("| 0 ms | requirements change | 2.00 / 1.20 / 0.80 |");
  // A row whose deploys all failed has nothing to split.
  expect(text).toContain("| 100 ms | requirements change | - |");
  // Without any verify wait (the peers only, or old results) the table is left out.
  expect(renderRun(results)).not.toContain("outside the verify wait");
  // Runs 1-15 went back to back; later ones pause at random first, and the text says which.
  expect(text).toContain("a bench run's timing keeps its phase");
  const paused = renderRun({ ...verified, settings: { ...verified.settings, startJitterMs: 1000 } });
  expect(paused).toContain("each deploy started after an untimed random pause of 0-1000 ms, so it met that beat at a phase of its own");
  expect(paused).not.toContain("keeps its phase");
});

test("with our own login measured too, the requirements change is set against the lower of the two floors", () => {
  const withOurs = { ...results, floors: [{ ...results.floors[0]!, ours: { connectTurns: 7, exchangeTurns: 5, turns: 12, seconds: 0.8, connectSeconds: 0.44 } }] };
  const text = renderRun(withOurs);
  expect(text).toContain("Our own login (the key sent with the auth request): 7 turns (0.44 s), one exec 5 more: **12 turns, 0.80 s**.");
  expect(text).toContain("Requirements change, turns against the lower floor (12): manual 30 (2.5x), `webshare deploy` 96 (8.0x).");
});
