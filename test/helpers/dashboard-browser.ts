import { type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium, which the dashboard's e2e tests drive (they are skipped where it is missing). */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** A browser profile signed in to the dashboard, and the errors its page reported. */
export interface DashboardSession { context: BrowserContext; page: Page; errors: string[] }

export interface SignInOptions {
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
  /** Runs on the fresh context before the page opens (e.g. routes that refuse a request). */
  setup?: (context: BrowserContext) => Promise<void>;
}

/**
 * A fresh browser profile signed in with a token pasted into the form, as a person would. Page
 * errors and console errors are collected, except the refusals the dashboard handles itself.
 */
export async function signInWithToken(browser: Browser, url: string, token: string, options: SignInOptions = {}): Promise<DashboardSession> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1440, height: 900 }, colorScheme: options.colorScheme ?? 'light' });
  await options.setup?.(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => { if (msg.type() === 'error' && !/status of (401|403|404|409|503)|EventSource/.test(msg.text())) errors.push(msg.text()); });
  await page.goto(`${url}/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#app-view').waitFor({ state: 'visible' });
  return { context, page, errors };
}
