"""Screenshots of the main pages, in English and Japanese, for a person to look at.

Run against a running Tokui (``make run``): python scripts/screenshots.py [--url URL] [--out DIR]
"""

import argparse
import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default="var/screenshots")
    parser.add_argument("--user", default="kam")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        for lang, locale in (("en", "en-US"), ("ja", "ja-JP")):
            for name, viewport in (("desktop", (1366, 900)), ("tablet", (820, 1180))):
                if name == "tablet" and lang == "en":
                    continue
                page = browser.new_page(
                    locale=locale, viewport={"width": viewport[0], "height": viewport[1]}
                )
                page.goto(f"{args.url}/login/")
                page.screenshot(path=out / f"{lang}-{name}-login.png")
                page.fill("#id_username", args.user)
                page.fill("#id_password", "demo-tokui")
                page.click("button[type=submit].btn-primary")
                page.wait_for_url(f"{args.url}/")
                page.screenshot(path=out / f"{lang}-{name}-dashboard.png", full_page=True)
                page.goto(f"{args.url}/accounts/")
                page.screenshot(path=out / f"{lang}-{name}-accounts.png")
                page.goto(f"{args.url}/accounts/?tier=key")
                page.click("#results tbody tr:first-child a")
                page.screenshot(path=out / f"{lang}-{name}-account.png", full_page=True)
                page.click("a[accesskey=e]")
                page.fill("#id_corporate_number", "1234567890123")
                page.fill("#id_phone", "12")
                page.click(".form-actions .btn-primary")
                page.screenshot(path=out / f"{lang}-{name}-account-errors.png", full_page=True)
                page.goto(f"{args.url}/contacts/")
                page.screenshot(path=out / f"{lang}-{name}-contacts.png")
                for slug, path in (
                    ("calendar", "/appointments/"),
                    ("tasks", "/tasks/"),
                    ("daily-report", "/daily-report/"),
                    ("calendar-subscription", "/appointments/subscription/"),
                ):
                    page.goto(f"{args.url}{path}")
                    page.screenshot(path=out / f"{lang}-{name}-{slug}.png", full_page=True)
                page.close()
        browser.close()
    sys.stdout.write(f"Screenshots in {out}/\n")


if __name__ == "__main__":
    main()
