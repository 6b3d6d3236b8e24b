import { expect, test, type Page } from "@playwright/test";
import { ADMIN, PASSWORD, expectNoAxeViolations, resetSchedule, signIn } from "./helpers";

// The demo app the other specs also use: the test leaves it as it found it (no schedule, no
// override, its two tasks running).
const SLUG = "sales-dashboard";
// The viewer is in New York; the app runs on Berlin time.
const VIEWER_ZONE = "America/New_York";

test.use({ timezoneId: VIEWER_ZONE });

const reset = (page: Page) => resetSchedule(page, SLUG);

test("an admin gives an app office hours, overrides them and finds both on the Fleet and Schedules pages", async ({
  page,
}) => {
  test.setTimeout(120_000);
  await signIn(page, ADMIN, PASSWORD, `/apps/${SLUG}`);
  await reset(page);
  await page.reload();
  try {
    const grid = page.getByTestId("week-grid");
    const blocks = grid.locator(".on-block");
    const save = page.getByRole("button", { name: "Save schedule" });
    await expect(page.getByTestId("schedule-state")).toContainText("No schedule");
    // The editor's controls are enabled once the page runs in the browser.
    await expect(save).toBeEnabled({ timeout: 20_000 });
    // A new schedule starts in the viewer's own zone.
    const zone = page.getByLabel("Time zone", { exact: true });
    await expect(zone).toHaveValue(VIEWER_ZONE);

    // Office hours: the week grid follows before anything is saved.
    await expect(async () => {
      await page.getByRole("button", { name: "Office hours" }).click();
      await expect(blocks).toHaveCount(5, { timeout: 1_000 });
    }).toPass({ timeout: 20_000 });
    for (const day of ["mon", "tue", "wed", "thu", "fri"]) {
      await expect(grid.locator(`[data-day="${day}"] .on-block`)).toHaveCount(1);
    }
    await expect(grid.locator('[data-day="sat"] .on-block')).toHaveCount(0);
    await expect(grid.locator('[data-day="mon"] .on-block')).toHaveAttribute("data-start", "08:00");
    await expect(grid.locator('[data-day="mon"] .on-block')).toHaveAttribute("data-end", "18:00");
    await expectNoAxeViolations(page, "with the schedule editor filled in");

    await zone.fill("Europe/Berlin");
    // Transitions only: saving acts at the next change, not at once, so the shared demo app
    // is never scaled down in the middle of the suite (outside Berlin's office hours).
    await page.getByLabel("Mode", { exact: true }).selectOption("transitions");
    await save.click();
    await expect(page.getByText("Schedule saved.")).toBeVisible();
    await expect(page.getByTestId("schedule-state")).toContainText("Mon–Fri 08:00–18:00 · Europe/Berlin");
    await expect(blocks).toHaveCount(5);
    const next = page.getByTestId("next-transitions");
    await expect(next.locator("tbody tr")).toHaveCount(5);
    // Each change in Berlin's time and in the viewer's.
    await expect(next.locator("thead")).toContainText(`Your time (${VIEWER_ZONE})`);
    await expect(next.locator("tbody tr").first().locator("td").nth(0)).toContainText(/CES?T/);
    await expect(next.locator("tbody tr").first().locator("td").nth(1)).toContainText(/E[SD]T/);

    // An override for two hours, at the schedule's on count.
    await page.getByRole("button", { name: "On for 2 hours" }).click();
    const badge = page.getByTestId("override-badge");
    await expect(badge).toContainText(/^Override: \d+ tasks? until /);
    await expect(badge).toContainText(`(by ${ADMIN})`);
    await expectNoAxeViolations(page, "after an override was set");

    // The Fleet shows the override on the app's row.
    await page.goto("/");
    await expect(page.locator(`tr[data-slug="${SLUG}"]`)).toContainText(/override/i);

    // The Schedules page lists the app with its schedule and override.
    await page.goto("/schedules");
    const row = page.getByTestId("schedules-table").locator(`tr[data-slug="${SLUG}"]`);
    await expect(row).toContainText("Mon–Fri 08:00–18:00");
    await expect(row).toContainText("transitions only");
    await expect(row).toContainText(/override/i);
    await expect(row.getByRole("link")).toHaveAttribute("href", `/apps/${SLUG}#schedule`);
    await expectNoAxeViolations(page);

    // Back on the app's page: remove the schedule, then resume (end the override).
    await page.goto(`/apps/${SLUG}`);
    const confirm = page.getByRole("button", { name: "Yes, remove" });
    await expect(async () => {
      await page.getByRole("button", { name: "Remove schedule" }).click();
      await expect(confirm).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 20_000 });
    await expectNoAxeViolations(page, "with the remove confirmation open");
    await confirm.click();
    await expect(page.getByTestId("schedule-state")).toContainText("No schedule");
    await expect(blocks).toHaveCount(0);
    await page.getByRole("button", { name: "Resume schedule" }).click();
    await expect(badge).toHaveCount(0);
  } finally {
    await reset(page);
  }
});
