import { expect, test } from "@playwright/test";
import { readFile } from "node:fs/promises";
import { ADMIN, PASSWORD, expectNoAxeViolations, signIn } from "./helpers";

test("the Costs page charts the last 30 days by app and exports them as CSV", async ({ page }) => {
  await signIn(page, ADMIN, PASSWORD, "/costs");
  await expect(page.getByRole("heading", { name: "Costs", level: 1 })).toBeVisible();
  // The demo's tasks have run since the console started: today has a stacked bar.
  const chart = page.getByTestId("cost-chart");
  await expect(chart).toBeVisible();
  await expect(chart.locator("rect.cost-hover")).toHaveCount(30);
  await expect(async () => {
    await page.reload();
    await expect(chart.locator("rect.cost-bar").first()).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(chart.locator("text.axis").first()).toHaveText(/^\$0\.0+$/);

  const table = page.getByTestId("costs-table");
  for (const name of ["Sales dashboard", "Forecast explorer", "Clinical trial monitor", "Monthly ops report"]) {
    await expect(table.getByRole("link", { name })).toBeVisible();
  }
  await expect(table.locator("tfoot")).toContainText("Fleet");
  await expectNoAxeViolations(page);

  const download = page.waitForEvent("download");
  await page.getByTestId("costs-csv").click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^shinyfleet-costs-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
  const lines = (await readFile(await file.path(), "utf8")).trim().split(/\r?\n/);
  expect(lines[0]).toBe("app,day,task_seconds,vcpu_hours,gb_hours,cost_usd");
  expect(lines.length).toBeGreaterThan(1);
  expect(lines.slice(1).every((l) => /^[a-z][a-z0-9-]*,\d{4}-\d{2}-\d{2},\d+,[\d.]+,[\d.]+,\d+\.\d{6}$/.test(l))).toBe(true);
  expect(lines.some((l) => l.startsWith("sales-dashboard,"))).toBe(true);
});

test("the Fleet table and the app page say what an app costs", async ({ page }) => {
  await signIn(page, ADMIN, PASSWORD, "/");
  const cell = page.locator('tr[data-slug="sales-dashboard"] td[data-col="cost-today"]');
  await expect(async () => {
    await page.reload();
    await expect(cell).toHaveText(/^\$\d+\.\d+$/, { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await page.goto("/apps/sales-dashboard");
  const card = page.getByTestId("cost-card");
  await expect(card).toContainText("This month so far");
  await expect(card).toContainText(/an hour per task \(0\.5 vCPU, 1 GB, x86_64\)/);
  await expectNoAxeViolations(page);
});
