// Opens an emrguard HTML report in headless Chromium (Debian's, driven by playwright-core) and
// checks it as a reader would: it renders without console errors or network requests, every
// finding has its evidence diagram, and the filters (practice, severity, namespace, text,
// summary cells, suppressed) show exactly the findings they should. Keeps a screenshot.
//
// node html_report.cjs NODE_MODULES_DIR REPORT.html SCREENSHOT.png
// Prints a JSON summary; exits 1 listing the problems.
"use strict";
const path = require("path");
const fs = require("fs");

const [nodeModules, report, shot] = process.argv.slice(2);
const { chromium } = require(path.resolve(nodeModules, "playwright-core"));

// Playwright gives every launch a new empty profile (--user-data-dir) of its own.
const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

(async () => {
  const problems = [];
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: FLAGS,
    headless: true,
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") {
        problems.push(`console ${m.type()}: ${m.text()}`);
      }
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("request", (r) => {
      const u = r.url();
      if (!u.startsWith("file://") && !u.startsWith("data:") && !u.startsWith("about:")) {
        problems.push(`network request: ${u}`);
      }
    });
    await page.goto("file://" + path.resolve(report), { waitUntil: "load" });

    const state = () => page.$$eval("article.finding", (els) => els.map((e) => ({
      id: e.id, practice: e.dataset.practice, severity: e.dataset.severity,
      namespace: e.dataset.namespace, status: e.dataset.status, shown: !e.hidden,
      visible: e.offsetParent !== null, text: e.textContent,
      nodes: e.querySelectorAll(".chain .node").length,
      arrows: e.querySelectorAll(".chain svg.arrow").length,
    })));
    const shownText = () => page.$eval("#shown", (e) => e.textContent);
    const check = (cond, msg) => { if (!cond) { problems.push(msg); } };
    const expectShown = async (label, want) => {
      const all = await state();
      const shown = all.filter((f) => f.visible).map((f) => f.id).sort();
      const expected = all.filter(want).map((f) => f.id).sort();
      check(JSON.stringify(shown) === JSON.stringify(expected),
        `${label}: shows ${shown.length} findings, expected ${expected.length}`);
      check((await shownText()).startsWith(`${expected.length} of ${all.length}`),
        `${label}: counter says "${await shownText()}"`);
      const empty = await page.$eval("#empty", (e) => e.offsetParent !== null);
      check(empty === (expected.length === 0), `${label}: empty notice ${empty ? "shown" : "hidden"}`);
      return expected.length;
    };
    const reset = async () => {
      await page.selectOption("#f-practice", "");
      await page.selectOption("#f-severity", "");
      await page.selectOption("#f-namespace", "");
      await page.fill("#f-text", "");
      await page.setChecked("#f-suppressed", false);
    };

    const all = await state();
    check(all.length > 0, "no findings in the report");
    for (const f of all) {
      check(f.nodes >= 2, `${f.id}: evidence diagram has ${f.nodes} boxes`);
      check(f.arrows === f.nodes - 1, `${f.id}: ${f.nodes} boxes but ${f.arrows} arrows`);
    }
    const summary = {};
    summary.findings = all.length;
    summary.initial = await expectShown("initial", (f) => f.status !== "suppressed");

    const practices = [...new Set(all.map((f) => f.practice))];
    for (const p of practices) {
      await reset();
      await page.selectOption("#f-practice", p);
      await expectShown(`practice ${p}`, (f) => f.practice === p && f.status !== "suppressed");
    }
    const severities = [...new Set(all.map((f) => f.severity))];
    for (const s of severities) {
      await reset();
      await page.selectOption("#f-severity", s);
      await expectShown(`severity ${s}`, (f) => f.severity === s && f.status !== "suppressed");
    }
    const namespaces = [...new Set(all.map((f) => f.namespace).filter((n) => n))];
    summary.namespaces = namespaces.length;
    for (const n of namespaces) {
      await reset();
      await page.selectOption("#f-namespace", n);
      await expectShown(`namespace ${n}`, (f) => f.namespace === n && f.status !== "suppressed");
    }
    // Combined filters, down to nothing.
    await reset();
    await page.selectOption("#f-practice", all[0].practice);
    await page.selectOption("#f-severity", all[0].severity);
    await expectShown("practice and severity",
      (f) => f.practice === all[0].practice && f.severity === all[0].severity && f.status !== "suppressed");
    await page.fill("#f-text", "no finding says this 7d1f0c");
    await expectShown("text that matches nothing", () => false);
    // Text search.
    await reset();
    const rule = all[all.length - 1].text.match(/[A-Z]+[0-9]{3}/)[0];
    await page.fill("#f-text", rule);
    await expectShown(`search ${rule}`,
      (f) => f.text.toLowerCase().includes(rule.toLowerCase()) && f.status !== "suppressed");
    // Suppressed findings appear on demand.
    await reset();
    await page.setChecked("#f-suppressed", true);
    summary.with_suppressed = await expectShown("show suppressed", () => true);
    // A summary cell filters to its practice and severity.
    await reset();
    const cells = await page.$$("td.n[data-severity]:not([data-severity=''])");
    check(cells.length > 0, "summary has no clickable cells");
    if (cells.length > 0) {
      const p = await cells[0].getAttribute("data-practice");
      const s = await cells[0].getAttribute("data-severity");
      const n = Number(await cells[0].textContent());
      await cells[0].click();
      const got = await expectShown(`summary cell ${p}/${s}`,
        (f) => f.practice === p && f.severity === s && f.status !== "suppressed");
      check(got === n, `summary cell ${p}/${s} says ${n}, shows ${got}`);
    }
    await reset();
    await page.evaluate(() => window.scrollTo(0, 0));
    fs.mkdirSync(path.dirname(shot), { recursive: true });
    await page.screenshot({ path: shot });
    summary.problems = problems;
    console.log(JSON.stringify(summary));
  } finally {
    await browser.close();
  }
  process.exit(problems.length ? 1 : 0);
})().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(2);
});
