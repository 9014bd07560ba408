/**
 * HTTP health check from the deploying machine: poll the URL until it answers with the
 * expected status or the timeout passes. Returns undefined on success, else the last reason.
 */
export async function waitForHealthy(url: string, expectStatus: number, timeoutSeconds: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let reason = "no answer";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(Math.min(10_000, Math.max(1000, deadline - Date.now()))), redirect: "manual" });
      const body = await response.text();
      if (response.status === expectStatus) return undefined;
      reason = `HTTP ${response.status} (expected ${expectStatus}): ${body.replace(/\s+/g, " ").trim().slice(0, 200)}`;
    } catch (e) {
      reason = (e as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return reason;
}
