"""The Content-Security-Policy holds in a real browser: the main pages of each role, the charts (with a tooltip
shown), an htmx update and the API docs work with no console message about a blocked script or style."""

import time_machine
from playwright.sync_api import expect

from tests.browser.test_helper_flow import log_in
from tests.reports.test_dashboards import NOW, make_scene


def _watch(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Console messages and uncaught errors that mention the policy (Chromium: "…violates the following Content
    Security Policy directive…")."""
    seen: list[str] = []
    page.on("console", lambda message: seen.append(f"{page.url}: {message.text}"))
    page.on("pageerror", lambda error: seen.append(f"{page.url}: {error}"))
    return seen


def _violations(seen: list[str]) -> list[str]:
    return [line for line in seen if "Content Security Policy" in line or "Content-Security-Policy" in line]


def _hover_a_chart(page) -> None:  # type: ignore[no-untyped-def]
    """Show a chart's tooltip, by the mouse and by ECharts' own action: an HTML tooltip would break the policy."""
    chart = page.locator(".bf-chart[data-drawn]").first
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    assert box is not None
    for step in range(1, 20):
        page.mouse.move(box["x"] + box["width"] * step / 20, box["y"] + box["height"] / 2)
    chart.evaluate(
        "element => echarts.getInstanceByDom(element).dispatchAction({type: 'showTip', seriesIndex: 0, dataIndex: 0})"
    )


def test_the_main_pages_of_every_role_run_under_the_policy(  # type: ignore[no-untyped-def]
    transactional_db, live_server, world, browser, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    make_scene(world)
    base = live_server.url
    seen: list[str] = []
    with time_machine.travel(NOW, tick=True):
        for username, pages in {
            "office": ["/students/", "/reports/school/", "/api/v1/docs"],
            "leader": ["/reports/department/"],
            "helper": ["/help/mine/", "/reports/mine/"],
            "student": ["/me/"],
        }.items():
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(15_000)
            seen += _watch(page)
            log_in(page, base, username)
            for path in pages:
                page.goto(f"{base}{path}")
                page.wait_for_load_state("networkidle")
                if path.startswith("/reports/"):
                    charts = page.locator(".bf-chart").count()
                    expect(page.locator(".bf-chart[data-drawn]")).to_have_count(charts)
                    if path == "/reports/school/":
                        assert charts > 3
                        _hover_a_chart(page)
                if path == "/students/":
                    # An htmx update: the search swaps the results in place (the page itself is not reloaded).
                    page.evaluate("window.bfSamePage = true")
                    page.fill("input[name=q]", "王芳")
                    page.press("input[name=q]", "Enter")
                    expect(page.locator("#results tbody tr, #results li").first).to_contain_text("王芳")
                    expect(page.locator("#results")).not_to_contain_text("刘洋")
                    assert page.evaluate("window.bfSamePage") is True
                if path == "/api/v1/docs":
                    # Swagger UI (ninja's static files) rendered the operations from the schema.
                    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
                    assert page.locator(".swagger-ui .opblock").count() > 20
            if username == "student":
                expect(page.locator("[data-testid=helper-name]")).to_have_text("郑银乐")
            context.close()
    assert not _violations(seen), "\n".join(_violations(seen))
    # The watch itself works: an inline style added to a page under the policy is reported.
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    with page.expect_console_message(lambda message: bool(_violations([message.text]))):
        page.evaluate("document.head.append(Object.assign(document.createElement('style'), {textContent: 'p{}'}))")
    context.close()
