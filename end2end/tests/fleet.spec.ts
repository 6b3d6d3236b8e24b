import { expect, test } from "@playwright/test";
import { ADMIN, PASSWORD, expectNoAxeViolations, signIn } from "./helpers";

test("the Fleet table sorts by a column and shows each app's health", async ({ page }) => {
  await signIn(page, ADMIN, PASSWORD, "/");
  const rows = page.locator("table.fleet-table tbody tr");
  await expect(rows).toHaveCount(4);
  await expect(rows.first()).toHaveAttribute("data-slug", "trial-monitor"); // by name: "Clinical trial monitor"
  // Once the poller has seen the tasks: the busiest app first; again, and it is last.
  await expect(page.locator('tr[data-slug="sales-dashboard"]')).toContainText("2 healthy", { timeout: 20_000 });
  const running = page.getByRole("button", { name: "Running / desired" });
  const header = page.locator("th", { has: running });
  // Sorting works once the page has hydrated: click until the header says so.
  await expect(async () => {
    if ((await header.getAttribute("aria-sort")) !== "ascending") await running.click();
    await expect(header).toHaveAttribute("aria-sort", "ascending", { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(rows.first()).toHaveAttribute("data-slug", "sales-dashboard");
  await running.click();
  await expect(header).toHaveAttribute("aria-sort", "descending");
  await expect(rows.last()).toHaveAttribute("data-slug", "sales-dashboard");
  await expectNoAxeViolations(page, "after sorting");
});

test("the Fleet table shows a deploy started elsewhere without a reload", async ({ page }) => {
  await signIn(page, ADMIN, PASSWORD, "/");
  const row = page.locator('tr[data-slug="ops-report"]');
  await expect(row).toBeVisible();
  await page.waitForTimeout(1_500); // hydrated: the table refreshes itself from now on
  // A CI job deploys through the API while the page stays open.
  const res = await page.request.post("/api/v1/apps/ops-report/deploys", {
    headers: { origin: new URL(page.url()).origin },
  });
  expect(res.status()).toBe(202);
  await expect(row.locator('td[data-col="last-deploy"]')).toContainText(/in progress|completed/, { timeout: 25_000 });
});
