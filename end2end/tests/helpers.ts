import { expect, type APIRequestContext, type Page } from "@playwright/test";

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

/** Signs a request context in (it keeps the session cookie). */
export async function signInRequest(request: APIRequestContext, baseURL: string, email: string) {
  const res = await request.post("/sfn/sign_in", {
    form: { email, password: PASSWORD, next: "/" },
    headers: { origin: baseURL },
  });
  expect(res.status()).toBe(200);
}
