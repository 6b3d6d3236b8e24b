import { expect, test, type Page } from "@playwright/test";
import { ADMIN, PASSWORD, VIEWER, expectNoAxeViolations, signIn } from "./helpers";

const ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
const uniqueSlug = (name: string) => `${name}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

/** Fills the registration form and submits it (once the page can handle it). */
async function register(page: Page, slug: string, image: string) {
  await page.getByLabel("Name").fill(`App ${slug}`);
  await page.getByLabel("Slug").fill(slug);
  await page.getByLabel("Image").fill(image);
  await page.getByLabel("Desired tasks").fill("2");
  await page.getByLabel("Environment variables").fill("SHINY_LOG_LEVEL=info");
  await page.getByRole("button", { name: "Register app" }).click();
}

const progress = (page: Page) => page.getByTestId("rollout-progress");
const rolloutState = (page: Page) => page.getByTestId("rollout-state");

test("an admin registers an app, deploys it, survives a broken image and rolls back to revision 1", async ({
  page,
}) => {
  test.setTimeout(240_000);
  await signIn(page, ADMIN, PASSWORD, "/apps/new");
  const slug = uniqueSlug("e2e");
  await register(page, slug, `${ECR}/e2e:v1`);
  await expect(page).toHaveURL(new RegExp(`/apps/${slug}$`));
  await expect(page.getByRole("heading", { level: 1 })).toContainText(`App ${slug}`);
  await expect(page.getByText("Not deployed from the console yet.")).toBeVisible();
  await expectNoAxeViolations(page);

  // Deploy: the progress bar fills up to the desired count without a reload.
  await page.getByTestId("deploy-button").click();
  await expect(rolloutState(page)).toContainText("Deploy #", { timeout: 10_000 });
  await expect(progress(page)).toHaveAttribute("data-desired", "2", { timeout: 20_000 });
  await expect(progress(page)).toHaveAttribute("data-running", "2", { timeout: 60_000 });
  await expect(rolloutState(page)).toContainText("COMPLETED", { timeout: 60_000 });
  const history = page.getByTestId("deploy-history");
  await expect(history.locator("tbody tr")).toHaveCount(1);
  await expect(history).toContainText("sha256:");

  // A broken image: the circuit breaker fails the rollout and the old tasks keep serving.
  await page.getByLabel(/^New image/).fill(`${ECR}/e2e:broken`);
  await page.getByTestId("deploy-button").click();
  await expect(rolloutState(page)).toContainText("IN_PROGRESS", { timeout: 10_000 });
  await expect(rolloutState(page)).toContainText("FAILED", { timeout: 150_000 });
  await expect(page.getByTestId("rollout-reason")).toContainText("circuit breaker");
  await expectNoAxeViolations(page, "after a failed rollout");
  await expect(progress(page)).toHaveAttribute("data-running", "2");

  // One click rolls back to revision 1, which completes.
  await page.getByRole("button", { name: "Roll back to 1" }).click();
  await expect(rolloutState(page)).toContainText("rollback of revision 1", { timeout: 10_000 });
  await expect(rolloutState(page)).toContainText("COMPLETED", { timeout: 60_000 });
  await expect(history.locator("tbody tr")).toHaveCount(3);
  await expect(page.getByText(`${ECR}/e2e:v1`).first()).toBeVisible();

  // The Fleet lists it, and the audit log has each step.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" }).click();
  await expect(page.getByRole("cell", { name: "app.rollback" }).first()).toBeVisible();
  await expect(page.getByRole("cell", { name: "app.deploy" }).first()).toBeVisible();
  await expect(page.getByRole("cell", { name: "app.create" }).first()).toBeVisible();

  // Leave the demo fleet as it was for the other specs.
  const removed = await page.request.delete(`/api/v1/apps/${slug}`, { headers: { origin: new URL(page.url()).origin } });
  expect(removed.status()).toBe(204);
});

test("a form with bad fields says what is wrong next to each and registers nothing", async ({ page }) => {
  await signIn(page, ADMIN, PASSWORD, "/apps/new");
  const slug = uniqueSlug("Bad Slug");
  await register(page, slug, "rocker/shiny-verse");
  await expect(page.locator("#app-slug-error")).toContainText("lowercase");
  await expect(page.locator("#app-image-error")).toContainText("needs a tag");
  await expectNoAxeViolations(page, "with field errors shown");
  await expect(page).toHaveURL(/\/apps\/new$/);
  await page.goto("/");
  await expect(page.getByText(`App ${slug}`)).toHaveCount(0);
});

test("an admin edits an app and deletes it with a typed confirmation", async ({ page }) => {
  await signIn(page, ADMIN, PASSWORD, "/apps/new");
  const slug = uniqueSlug("gone");
  await register(page, slug, `${ECR}/gone:v1`);
  await expect(page).toHaveURL(new RegExp(`/apps/${slug}$`));

  await page.getByRole("link", { name: "Edit" }).click();
  await expect(page.getByLabel("Slug")).toHaveAttribute("readonly", "");
  await expectNoAxeViolations(page);
  await page.getByLabel("Name").fill(`Renamed ${slug}`);
  await page.getByLabel("Size").selectOption("512/2048");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page).toHaveURL(new RegExp(`/apps/${slug}$`));
  await expect(page.getByRole("heading", { level: 1 })).toContainText(`Renamed ${slug}`);
  await expect(page.getByText("0.5 vCPU · 2 GB")).toBeVisible();

  const remove = page.getByRole("button", { name: "Delete app" });
  await expect(remove).toBeDisabled();
  await page.getByLabel(/to confirm/).fill(slug);
  await remove.click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { level: 1, name: "Fleet" })).toBeVisible();
  await expect(page.getByText(`Renamed ${slug}`)).toHaveCount(0);
});

test("a viewer sees an app's page without a control that changes anything", async ({ page }) => {
  await signIn(page, VIEWER, PASSWORD, "/");
  await page.getByRole("link", { name: "Sales dashboard" }).click();
  await expect(page).toHaveURL(/\/apps\/sales-dashboard$/);
  await expect(progress(page)).toBeVisible();
  await expect(page.getByRole("heading", { name: "Service events" })).toBeVisible();
  // The poller recorded the demo app's two tasks; the page shows them running.
  await expect(page.getByTestId("tasks").locator('tr[data-status="RUNNING"]')).toHaveCount(2, { timeout: 20_000 });
  // Its utilisation chart is drawn (the samples arrive a few minutes after the tasks run).
  await expect(page.getByTestId("utilisation-chart")).toBeVisible();
  // The range buttons work once the page has hydrated: click until the chart says so.
  const week = page.getByRole("button", { name: "Week" });
  await expect(async () => {
    await week.click();
    await expect(week).toHaveAttribute("aria-pressed", "true", { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  // Its log is read on request: Shiny's start-up line is there.
  await page.getByRole("button", { name: "Show logs" }).click();
  await expect(page.getByTestId("log-lines")).toContainText("Listening on http://0.0.0.0:3838");
  await expectNoAxeViolations(page, "with the chart and the logs shown");
  await expect(page.getByTestId("deploy-button")).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Edit" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Delete app" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Register app" })).toHaveCount(0);
});
