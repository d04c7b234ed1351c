"""Driving the dashboard in a browser (Playwright): for the browser tests, the benchmark
and scripts/screenshots.py.

Dash 4's dropdown is a button that opens a popover with a search box and the options.
Waiting for "a listbox" is not enough: another dropdown's list may still be closing, and
keys typed then go astray. These helpers wait for *this* dropdown to be open, fill *its*
search box and click in *its* list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

__all__ = ["close_dropdown", "dropdown_option", "pick"]


def dropdown_option(page: Page, dropdown: str, text: str, *, exact: bool = False) -> Locator:
    """Open the dropdown with id ``dropdown``, search for ``text`` and return the first
    matching option (not clicked yet, so that a caller can time the click alone)."""
    trigger = page.locator(f"#{dropdown}")
    trigger.click()
    page.wait_for_selector(f"#{dropdown}[aria-expanded=true]")
    popover = page.locator(f'[id="{trigger.get_attribute("aria-controls")}"]')
    popover.locator("input[type=search]").fill(text)
    return popover.get_by_role("option", name=text, exact=exact).first


def close_dropdown(page: Page, dropdown: str) -> None:
    """Close the dropdown if it is still open (a multi-choice one stays open)."""
    if page.locator(f"#{dropdown}").get_attribute("aria-expanded") == "true":
        page.keyboard.press("Escape")
    page.wait_for_selector(f"#{dropdown}[aria-expanded=false]")


def pick(page: Page, dropdown: str, text: str, *, exact: bool = False) -> None:
    """Choose the option ``text`` of a dropdown and close it."""
    dropdown_option(page, dropdown, text, exact=exact).click()
    close_dropdown(page, dropdown)
