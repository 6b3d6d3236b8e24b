import { expect, test, type Page } from "@playwright/test";
import { ADMIN, PASSWORD, expectNoAxeViolations, resetSchedule, tabTo } from "./helpers";

// The demo app the schedules spec also uses; this test leaves it as it found it too (no
// schedule, no override, its two tasks running).
const SLUG = "sales-dashboard";

const reset = (page: Page) => resetSchedule(page, SLUG);

test("a whole journey by keyboard alone: sign in, open an app, set an override, save a schedule", async ({ page }) => {
  test.setTimeout(120_000);
  const keys = page.keyboard;

  // Sign in: the email field has the focus; Tab to the password, Enter submits.
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in/);
  await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled({ timeout: 20_000 });
  await expect(page.getByLabel("Email")).toBeFocused();
  await keys.type(ADMIN);
  await keys.press("Tab");
  await expect(page.getByLabel("Password", { exact: true })).toBeFocused();
  await keys.type(PASSWORD);
  await keys.press("Enter");
  await expect(page.getByRole("heading", { level: 1, name: "Fleet" })).toBeVisible();
  // Signing in loads the Fleet page anew: wait until it runs in the browser.
  await page.waitForLoadState("load");
  await expect(page.getByRole("button", { name: "Sign out" })).toBeEnabled({ timeout: 20_000 });
  await reset(page);
  try {
    // The first Tab reaches the skip link, which is shown while it has the focus.
    await keys.press("Tab");
    const skip = page.getByRole("link", { name: "Skip to content" });
    await expect(skip).toBeFocused();
    await expect(skip).toBeInViewport();

    // Open the app: Tab to its link in the Fleet table, Enter.
    await tabTo(page, page.getByRole("link", { name: "Sales dashboard" }));
    await keys.press("Enter");
    await expect(page).toHaveURL(new RegExp(`/apps/${SLUG}$`));
    const save = page.getByRole("button", { name: "Save schedule" });
    await expect(save).toBeEnabled({ timeout: 20_000 });
    await expect(page.getByTestId("schedule-state")).toContainText("No schedule");

    // The utilisation chart reads out its points with the arrow keys.
    const chart = page.getByTestId("utilisation-chart");
    await tabTo(page, chart);
    await expect(chart.locator("desc")).toContainText(/CPU|No samples/);
    if (Number(await chart.getAttribute("data-points")) > 0) {
      await keys.press("End");
      await expect(page.locator(".chart-readout")).toContainText(/UTC · CPU \d/);
    }

    // An override, with the quick button: Enter presses it; a live region says what happened.
    const quick = page.getByRole("button", { name: "On for 2 hours" });
    await tabTo(page, quick);
    await keys.press("Enter");
    await expect(page.getByTestId("override-badge")).toContainText(/^Override: \d+ tasks? until /);
    await expect(page.getByTestId("schedule-announcer")).toContainText(/^Override: \d+ tasks? until /);
    await expect(quick).toBeFocused();

    // The editor: a preset with Space, then a day toggled in and out of the first window;
    // the week grid follows.
    const grid = page.getByTestId("week-grid");
    await tabTo(page, page.getByRole("button", { name: "Office hours" }));
    await keys.press("Space");
    await expect(grid.locator(".on-block")).toHaveCount(5);
    const saturday = page.getByRole("group", { name: "Window 1 days" }).getByRole("button", { name: "Sat" });
    await tabTo(page, saturday);
    await keys.press("Space");
    await expect(saturday).toHaveAttribute("aria-pressed", "true");
    await expect(grid.locator('[data-day="sat"] .on-block')).toHaveCount(1);
    await keys.press("Enter");
    await expect(saturday).toHaveAttribute("aria-pressed", "false");
    await expect(grid.locator('[data-day="sat"] .on-block')).toHaveCount(0);

    // A time the server refuses: after Save the focus is on the field to correct.
    const start = page.getByLabel("Window 1 start");
    await tabTo(page, start);
    await keys.press("ControlOrMeta+A");
    await keys.type("25:00");
    await tabTo(page, save);
    await keys.press("Enter");
    await expect(start).toHaveAttribute("aria-invalid", "true");
    await expect(start).toBeFocused();
    await expectNoAxeViolations(page, "with a field error in the schedule editor");
    await keys.press("ControlOrMeta+A");
    await keys.type("08:00");

    // Berlin's zone, transitions only (so the shared demo app is never scaled in the middle of
    // the suite), then save: the focus moves to the confirmation.
    const zone = page.getByLabel("Time zone", { exact: true });
    await tabTo(page, zone);
    await keys.press("ControlOrMeta+A");
    await keys.type("Europe/Berlin");
    const mode = page.getByLabel("Mode", { exact: true });
    await tabTo(page, mode);
    await keys.press("ArrowDown");
    await expect(mode).toHaveValue("transitions");
    await tabTo(page, save);
    await keys.press("Enter");
    const saved = page.getByText("Schedule saved.");
    await expect(saved).toBeVisible();
    await expect(saved).toBeFocused();
    await expect(page.getByTestId("schedule-state")).toContainText("Mon–Fri 08:00–18:00 · Europe/Berlin");

    // Removing asks in a modal dialog: it has the focus, Tab stays inside, Escape closes it and
    // the focus is back on the button that opened it.
    const remove = page.getByRole("button", { name: "Remove schedule" });
    await tabTo(page, remove);
    await keys.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Remove this schedule?" });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
    await expectNoAxeViolations(page, "with the remove dialog open");
    for (let i = 0; i < 4; i++) {
      await keys.press("Tab");
      // Inside the dialog, or (past its last button) out to the browser: never on the page behind.
      const inside = await dialog.evaluate((d) => d.contains(document.activeElement) || document.activeElement === document.body);
      expect(inside, "the focus stays in the dialog").toBe(true);
    }
    await keys.press("Escape");
    await expect(dialog).toBeHidden();
    await expect(remove).toBeFocused();
    await expect(page.getByTestId("schedule-state")).toContainText("Mon–Fri 08:00–18:00");
  } finally {
    await reset(page);
  }
});
