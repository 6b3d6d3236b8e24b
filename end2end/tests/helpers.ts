import { expect, type APIRequestContext, type Locator, type Page } from "@playwright/test";

export const PASSWORD = process.env.E2E_PASSWORD ?? "Demo-pass-2026";
export const ADMIN = "admin@example.org";
export const VIEWER = "viewer@example.org";

/** Signs in through the sign-in page and waits for the page it leads to. */
export async function signIn(page: Page, email: string, password = PASSWORD, path = "/") {
  await page.goto(path);
  await expect(page).toHaveURL(/\/sign-in/);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/sign-in/);
}

/** Removes an app's schedule, then ends its override (each may be absent: 404). In this
 *  order, ending the override restores the count it replaced instead of what a schedule
 *  would want at this hour. */
export async function resetSchedule(page: Page, slug: string) {
  const origin = new URL(page.url()).origin;
  for (const fn of ["delete_schedule", "clear_override"]) {
    const res = await page.request.post(`/sfn/${fn}`, { form: { slug }, headers: { origin } });
    expect(res.status(), `${fn} answered ${res.status()}`).toBeLessThan(500);
  }
}

/** Signs a request context in (it keeps the session cookie). */
export async function signInRequest(request: APIRequestContext, baseURL: string, email: string) {
  const res = await request.post("/sfn/sign_in", {
    form: { email, password: PASSWORD, next: "/" },
    headers: { origin: baseURL },
  });
  expect(res.status()).toBe(200);
}

const AXE_SCRIPT = require.resolve("axe-core/axe.min.js");

/** A violation of axe-core's results, as much of it as the report needs. */
interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/**
 * Runs axe-core's WCAG 2 A and AA rules on the page as it is now and fails with each rule's
 * id and the elements it found, if any. `context` names the moment in the report ("after
 * the filter was typed").
 */
export async function expectNoAxeViolations(page: Page, context = "") {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ path: AXE_SCRIPT });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const results = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] }, resultTypes: ["violations"] });
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
  const report = violations
    .map((v) => {
      const nodes = v.nodes.map((n) => `    ${JSON.stringify(n.target)}${n.failureSummary ? `\n      ${n.failureSummary.replace(/\n/g, "\n      ")}` : ""}`);
      return `  ${v.id} (${v.impact}): ${v.help}\n${nodes.join("\n")}`;
    })
    .join("\n");
  expect(violations, `axe-core found WCAG 2 A/AA violations on ${page.url()}${context ? ` ${context}` : ""}:\n${report}`).toEqual([]);
}

/**
 * Presses Tab (or Shift+Tab) until `target` has the focus, as someone using the keyboard
 * would; fails after `max` presses.
 */
export async function tabTo(page: Page, target: Locator, { back = false, max = 80 } = {}) {
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) return;
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
  }
  await expect(target, `reached by ${back ? "Shift+Tab" : "Tab"} within ${max} presses`).toBeFocused({ timeout: 1 });
}
