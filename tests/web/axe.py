"""axe-core (npm, tests/js/node_modules) run in a Playwright page: the violations a person with a
screen reader or a keyboard would meet, as axe ranks them."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page

from tests.js.conftest import JS_DIR

AXE = JS_DIR / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")

# Run on the whole document, WCAG 2.x A and AA rules and axe's best practices.
RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")
      + (n.failureSummary ? " :: " + n.failureSummary.replace(/\\s+/g, " ") : "")),
  }));
}"""


async def violations(page: Page, impacts: tuple[str, ...] = SERIOUS) -> list[dict[str, Any]]:
    """axe's violations of the page as it is now, those of the given impacts."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the driver: the page's Content-Security-Policy refuses a script tag.
        await page.evaluate(f"() => {{ {AXE.read_text()}\n}}")
    found: list[dict[str, Any]] = await page.evaluate(RUN)
    return [v for v in found if v["impact"] in impacts]


def described(found: list[dict[str, Any]]) -> str:
    """The violations, one line per rule and an indented line per element, for an assertion."""
    lines = []
    for v in found:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        lines.extend(f"    {target}" for target in v["targets"][:8])
    return "\n".join(lines)


async def assert_accessible(page: Page, view: str) -> None:
    """No serious or critical axe violation in the page as it is now (``view`` names it)."""
    found = await violations(page)
    assert not found, f"axe on {view}:\n{described(found)}"
