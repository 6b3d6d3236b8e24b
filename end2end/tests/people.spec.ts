import { expect, test } from "@playwright/test";
import { ADMIN, PASSWORD, VIEWER, expectNoAxeViolations, signIn } from "./helpers";

const unique = (name: string) => `${name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.org`;

test("an admin invites a colleague, sees them invited, and disables them", async ({ page }) => {
  await signIn(page, ADMIN, PASSWORD, "/people");
  await expect(page).toHaveURL(/\/people$/);
  await expect(page.getByRole("heading", { level: 1, name: "People" })).toBeVisible();
  const email = unique("colleague");
  // Controls work once the page has hydrated; retry the first fill until they do.
  await expect(async () => {
    await page.getByLabel("Email address").fill(email);
    await page.getByRole("button", { name: "Send invitation" }).click();
    await expect(page.getByText(`Invitation sent to ${email}`)).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.getByText(/Sandbox: their temporary password is/)).toBeVisible();
  // The form is ready for the next colleague: a second click cannot invite the same one again.
  await expect(page.getByLabel("Email address")).toHaveValue("");
  const row = page.locator(`tr[data-email="${email}"]`);
  await expect(row).toBeVisible();
  await expect(row.getByText("invited", { exact: true })).toBeVisible();
  await expect(row.getByText("shinyfleet-viewers")).toBeVisible();
  await expectNoAxeViolations(page, "after an invitation");
  // Deleting asks first: the confirmation takes the focus, Escape cancels it and gives the
  // focus back to the button that opened it.
  const deleteButton = row.getByRole("button", { name: "Delete…" });
  await deleteButton.click();
  await expect(row.getByLabel("Type the email to confirm")).toBeFocused();
  await expectNoAxeViolations(page, "with the delete confirmation open");
  await page.keyboard.press("Escape");
  await expect(row.getByLabel("Type the email to confirm")).toHaveCount(0);
  await expect(deleteButton).toBeFocused();
  await row.getByRole("button", { name: "Disable" }).click();
  await expect(row.getByText("disabled", { exact: true })).toBeVisible();
  await expect(row.getByRole("button", { name: "Enable" })).toBeVisible();
  // The audit log recorded both changes.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" }).click();
  await expect(page.getByRole("cell", { name: "user.disable" }).first()).toBeVisible();
  await expect(page.getByRole("cell", { name: "user.invite" }).first()).toBeVisible();
});

test("an invited colleague signs in with the temporary password and chooses a new one", async ({ page, browser }) => {
  await signIn(page, ADMIN, PASSWORD, "/people");
  const email = unique("newcomer");
  await expect(async () => {
    await page.getByLabel("Email address").fill(email);
    await page.getByRole("button", { name: "Send invitation" }).click();
    await expect(page.getByText(`Invitation sent to ${email}`)).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 20_000 });
  const temporary = (await page.getByTestId("temporary-password").textContent())!.trim();

  const context = await browser.newContext();
  const newcomer = await context.newPage();
  await newcomer.goto("/sign-in");
  await newcomer.getByLabel("Email").fill(email);
  await newcomer.getByLabel("Password", { exact: true }).fill(temporary);
  await newcomer.getByRole("button", { name: "Sign in" }).click();
  await expect(newcomer.getByLabel("New password", { exact: true })).toBeVisible();
  await expect(newcomer.getByText("At least 8 characters")).toBeVisible();
  await expectNoAxeViolations(newcomer, "on the new-password form");
  await newcomer.getByLabel("New password", { exact: true }).fill("Newcomer-2026");
  await newcomer.getByLabel("Confirm new password").fill("Newcomer-2026");
  await newcomer.getByRole("button", { name: "Set password and sign in" }).click();
  await expect(newcomer.getByRole("heading", { level: 1, name: "Fleet" })).toBeVisible();
  await expect(newcomer.getByText(email)).toBeVisible();
  await context.close();
});

test("a wrong password is refused with a clear message", async ({ page }) => {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(VIEWER);
  await page.getByLabel("Password", { exact: true }).fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("Incorrect email or password.")).toBeVisible();
  await expectNoAxeViolations(page, "after a refused sign-in");
  await expect(page).toHaveURL(/\/sign-in/);
});

test("a viewer sees everything and no control that changes anything", async ({ page }) => {
  await signIn(page, VIEWER, PASSWORD, "/people");
  await expect(page.getByRole("heading", { level: 1, name: "People" })).toBeVisible();
  await expect(page.locator(`tr[data-email="${ADMIN}"]`)).toBeVisible();
  await expect(page.getByRole("button", { name: "Send invitation" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /Disable|Enable|Delete|Resend/ })).toHaveCount(0);
  await expect(page.getByRole("combobox", { name: /Add to group/ })).toHaveCount(0);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Settings" })).toBeVisible();
  await expect(page.getByText("API tokens")).toHaveCount(0);
  await expect(page.getByText("viewer", { exact: true }).first()).toBeVisible();
  await expectNoAxeViolations(page, "as a viewer");
  // Signing out ends the session.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto("/people");
  await expect(page).toHaveURL(/\/sign-in\?next=/);
});

test("an admin creates an API token that is shown once", async ({ page, request, baseURL }) => {
  await signIn(page, ADMIN, PASSWORD, "/settings");
  const name = `ci-${Date.now()}`;
  await expect(async () => {
    await page.getByLabel("Token name").fill(name);
    await page.getByRole("button", { name: "Create token" }).click();
    await expect(page.getByTestId("new-token")).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 20_000 });
  const token = (await page.getByTestId("new-token").textContent())!.trim();
  expect(token).toMatch(/^sft_/);
  await expect(page.getByText("Copy this token now; it will not be shown again.")).toBeVisible();
  await expectNoAxeViolations(page, "with a new token shown");
  const me = await request.get(`${baseURL}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  expect(me.status()).toBe(200);
  expect((await me.json()).name).toBe(name);
  await page.reload();
  await expect(page.getByTestId("new-token")).toHaveCount(0);
  await expect(page.getByRole("cell", { name, exact: true })).toBeVisible();
});
