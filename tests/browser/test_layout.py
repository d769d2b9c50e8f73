"""The base layout in a real browser: language, keyboard access, labels, CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import csp_violations, new_context

pytestmark = pytest.mark.browser

UNLABELLED_CONTROLS = """
() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden')
  .filter(el => {
    if (el.tagName === 'BUTTON' || ['submit', 'button', 'reset'].includes(el.type)) {
      return !(el.textContent.trim() || el.value || el.getAttribute('aria-label'));
    }
    const labelled = [...(el.labels || [])].some(label => label.textContent.trim());
    return !(labelled || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby'));
  })
  .map(el => el.outerHTML)
"""


def html_lang(page: Page) -> str | None:
    return page.locator("html").get_attribute("lang")


def test_the_home_page_is_in_chinese_by_default(page: Page, console_errors):
    page.goto("/")

    assert html_lang(page) == "zh-hans"
    expect(page.locator("main h1")).to_be_visible()
    assert "通办" in page.title()
    assert not csp_violations(console_errors), console_errors


@pytest.mark.parametrize("locale", ["en-US", "fr-FR"])
def test_pages_are_chinese_until_the_visitor_switches_whatever_the_browser_asks(browser, live_server, locale):
    context = new_context(browser, live_server.url, locale=locale)
    try:
        page = context.new_page()
        page.goto("/")
        assert html_lang(page) == "zh-hans"
    finally:
        context.close()


def test_the_language_switch_changes_to_english_and_back(page: Page):
    page.goto("/")

    # when the visitor picks English and switches
    page.get_by_label("语言").select_option("en")
    with page.expect_navigation():
        page.locator("form.language").get_by_role("button").click()

    # then the page is in English, and stays so on the next page
    assert html_lang(page) == "en"
    expect(page.get_by_label("Language")).to_be_visible()
    page.goto("/account/sign-in/")
    assert html_lang(page) == "en"

    # and back
    page.get_by_label("Language").select_option("zh-hans")
    with page.expect_navigation():
        page.locator("form.language").get_by_role("button").click()
    assert html_lang(page) == "zh-hans"
    assert page.url.endswith("/account/sign-in/")


def test_the_skip_link_is_the_first_stop_and_moves_focus_to_main(page: Page):
    page.goto("/")

    # when the keyboard user presses Tab once
    page.keyboard.press("Tab")

    # then the skip link has focus, and is visible while it has
    focused = page.locator(":focus")
    expect(focused).to_have_attribute("href", "#main")
    expect(focused).to_be_visible()

    # when they follow it
    page.keyboard.press("Enter")

    # then main has focus
    expect(page.locator("main#main")).to_be_focused()


@pytest.mark.parametrize("path", ["/", "/account/sign-in/", "/account/sign-up/"])
def test_every_form_control_has_a_label(page: Page, path):
    page.goto(path)

    assert page.evaluate(UNLABELLED_CONTROLS) == []


def test_pages_have_one_main_landmark_and_a_heading(page: Page):
    page.goto("/")

    assert page.locator("main").count() == 1
    assert page.locator("h1").count() == 1
    expect(page.get_by_role("navigation").first).to_be_visible()
