"""Pictures of a running MedVenue as its demo users see it, with the live socket connected.

    make run                                  # in one terminal (the seeded demo)
    .venv/bin/python scripts/screenshots.py [--base http://127.0.0.1:8000] [--out DIR]

Logs in as the demo physician (password: DEMO_PASSWORD, default "medvenue-demo"), opens the
lobby, the first auditorium in 3D and in the 2D twin and the hall's meeting rooms, waits until
each hall page's Live Q&A panel says it is connected, and writes PNGs (1440x900) to --out
(default docs/screenshots/). Headless Debian Chromium (/usr/bin/chromium), nothing downloaded.
The browser tests make the other pictures (docs/screenshots/README.md).
"""

import argparse
import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
MODE_KEY = "medvenue:venue-mode"  # frontend/src/main.js: the 3D view or the 2D twin


def first_event_slug(page, base: str) -> str:
    """The demo event: the first event linked from the home page."""
    page.goto(f"{base}/")
    href = page.locator("a[href^='/events/']").first.get_attribute("href")
    return href.strip("/").split("/")[1]


def login(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("form [type=submit]")
    page.wait_for_load_state()
    if "/accounts/login/" in page.url:
        sys.exit(f"could not log in as {email}: is `make run` up with the demo password?")


def wait_connected(page) -> None:
    """Until the hall's live panel is connected (the socket's hello arrived)."""
    page.wait_for_function(
        "() => { const s = document.querySelector('.live-status');"
        " return s && /^(Connected|Now|Next)/.test(s.textContent); }",
        timeout=30000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD", "medvenue-demo"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--use-gl=angle", "--use-angle=swiftshader"]
        )
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        login(page, args.base, "physician@medvenue.test", args.password)
        slug = first_event_slug(page, args.base)
        if page.request.get(f"{args.base}/healthz/ready").status != 200:
            sys.exit("the platform is not ready (GET /healthz/ready)")
        manifest = page.request.get(f"{args.base}/api/events/{slug}/venue/").json()
        halls = [h for h in manifest["halls"] if h["kind"] == "auditorium"]
        shots = [("live-lobby.png", f"/events/{slug}/venue/", "")]
        if halls:
            hall = halls[0]["slug"]
            shots += [
                ("live-auditorium.png", f"/events/{slug}/venue/{hall}/", ""),
                ("live-auditorium-2d.png", f"/events/{slug}/venue/{hall}/", "2d"),
                ("rooms-list.png", f"/events/{slug}/venue/{hall}/rooms/", "skip-wait"),
            ]
        for name, path, flags in shots:
            page.goto(f"{args.base}{path}")
            mode = "2d" if flags == "2d" else "3d"
            if page.evaluate(f"localStorage.getItem('{MODE_KEY}')") != mode:
                page.evaluate(f"localStorage.setItem('{MODE_KEY}', '{mode}')")
                page.reload()
            if flags != "skip-wait":
                wait_connected(page)
            page.wait_for_timeout(1500)  # let the 3D scene draw a few frames
            page.screenshot(path=str(out / name))
            print(out / name)
        browser.close()


if __name__ == "__main__":
    main()
