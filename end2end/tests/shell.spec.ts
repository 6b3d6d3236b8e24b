import { expect, test } from "@playwright/test";
import { ADMIN, expectNoAxeViolations, signIn, signInRequest } from "./helpers";

const DEMO_APPS = ["Sales dashboard", "Forecast explorer", "Clinical trial monitor", "Monthly ops report"];

test("the server-rendered Fleet page already lists the demo apps", async ({ request, baseURL }) => {
  const anonymous = await request.get("/", { maxRedirects: 0 });
  expect(anonymous.status()).toBe(303);
  await signInRequest(request, baseURL!, ADMIN);
  const res = await request.get("/");
  expect(res.status()).toBe(200);
  const html = await res.text();
  for (const name of DEMO_APPS) expect(html).toContain(name);
});

test("the Fleet page is styled and shows each app's state", async ({ page }) => {
  await signIn(page, ADMIN);
  await expect(page.getByRole("heading", { name: "Fleet" })).toBeVisible();
  // The stylesheet applies: the top bar is dark and the table is laid out.
  const topbar = page.locator("header.topbar");
  await expect(topbar).toHaveCSS("background-color", "rgb(22, 27, 38)");
  for (const name of DEMO_APPS) await expect(page.getByRole("cell", { name })).toBeVisible();
  const sales = page.locator('tr[data-slug="sales-dashboard"]');
  await expect(sales.locator(".badge").first()).toHaveText(/running|deploying|waiting for data/);
  await expect(page.locator('tr[data-slug="ops-report"] .badge').first()).toHaveText(/scaled to zero|waiting for data/);
  await expectNoAxeViolations(page);
});

test("after hydration, the filter narrows the table without a reload", async ({ page }) => {
  await signIn(page, ADMIN);
  const count = page.getByTestId("fleet-count");
  await expect(count).toHaveText("4 of 4 apps shown");
  // Typing only filters once the wasm bundle has hydrated the page; retry until it has.
  const filter = page.getByRole("searchbox", { name: "Filter apps" });
  await expect(async () => {
    await filter.fill("");
    await filter.pressSequentially("forecast");
    await expect(count).toHaveText("1 of 4 apps shown", { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.locator('tr[data-slug="forecast-explorer"]')).toBeVisible();
  await expect(page.locator('tr[data-slug="sales-dashboard"]')).toBeHidden();
  await expectNoAxeViolations(page, "after the filter was typed");
  await filter.fill("");
  await expect(count).toHaveText("4 of 4 apps shown");
});

test("the navigation reaches every section and unknown addresses get a 404 page", async ({ page }) => {
  await signIn(page, ADMIN);
  for (const section of ["Schedules", "Costs", "People", "Audit", "Settings"]) {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: section }).click();
    await expect(page.getByRole("heading", { level: 1, name: section })).toBeVisible();
    await expectNoAxeViolations(page);
  }
  await expect(page.getByText("sandbox").first()).toBeVisible();
  const res = await page.goto("/no/such/page");
  expect(res?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expectNoAxeViolations(page);
});

test("the Audit log's filter passes axe-core once applied", async ({ page }) => {
  await signIn(page, ADMIN, undefined, "/audit");
  await expect(page.getByRole("heading", { level: 1, name: "Audit" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Clear" })).toBeEnabled({ timeout: 20_000 });
  await page.getByLabel("Action", { exact: true }).fill("user.invite");
  await page.getByLabel("Action", { exact: true }).press("Enter");
  await expect(page.getByText("Loading…")).toHaveCount(0);
  await expectNoAxeViolations(page, "after filtering by action");
});
