// Opens an emrguard HTML report in headless Chromium (Debian's, driven by playwright-core) and
// checks it as a reader would: it renders without console errors or network requests, every
// finding has its evidence diagram, and the filters (practice, severity "and above" and
// "only", namespace, text, summary cells by mouse and by keyboard, suppressed) show exactly the
// findings they should; the filter state is kept in the URL (a reload restores it); at 420 px
// wide nothing is cut (no horizontal overflow, every summary column inside the viewport).
// Keeps a screenshot per width.
//
// node html_report.cjs NODE_MODULES_DIR REPORT.html SCREENSHOT.png
// Prints a JSON summary; exits 1 listing the problems.
"use strict";
const path = require("path");
const fs = require("fs");

const [nodeModules, report, shot] = process.argv.slice(2);
const RANK = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
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
      // top-level steps: boxes and forks (a fork's alternatives are boxes without arrows)
      steps: e.querySelectorAll(".chain > .node, .chain > .fork").length,
      namespaces: (e.dataset.namespaces || "").split(" ").filter((n) => n),
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
      check(f.arrows === f.steps - 1, `${f.id}: ${f.steps} steps but ${f.arrows} arrows`);
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
      await expectShown(`severity ${s} and above`,
        (f) => RANK[f.severity] <= RANK[s] && f.status !== "suppressed");
      await page.selectOption("#f-severity", "=" + s);
      await expectShown(`only severity ${s}`, (f) => f.severity === s && f.status !== "suppressed");
    }
    // The filter state is in the URL: a reload shows the same findings.
    await reset();
    const p0 = all[0].practice, s0 = all[all.length - 1].severity;
    await page.selectOption("#f-practice", p0);
    await page.selectOption("#f-severity", s0);
    const url = page.url();
    check(url.includes(`practice=${p0}`) && url.includes(`severity=${s0}`),
      `filter state not in the URL: ${url}`);
    await page.reload({ waitUntil: "load" });
    check(await page.$eval("#f-practice", (e) => e.value) === p0, "reload lost the practice filter");
    check(await page.$eval("#f-severity", (e) => e.value) === s0, "reload lost the severity filter");
    await expectShown("after reload",
      (f) => f.practice === p0 && RANK[f.severity] <= RANK[s0] && f.status !== "suppressed");
    summary.url = url.slice(url.indexOf("#"));
    const namespaces = [...new Set(all.flatMap((f) => f.namespaces))];
    summary.namespaces = namespaces.length;
    for (const n of namespaces) {
      await reset();
      await page.selectOption("#f-namespace", n);
      await expectShown(`namespace ${n}`, (f) => f.namespaces.includes(n) && f.status !== "suppressed");
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
    // Keyboard: Tab reaches the summary cells' buttons; Enter filters.
    await reset();
    {
      let reached = null;
      await page.focus("#f-text");
      await page.evaluate(() => document.activeElement.blur());
      for (let i = 0; i < 40 && !reached; i++) {
        await page.keyboard.press("Tab");
        reached = await page.evaluate(() => {
          const a = document.activeElement;
          const td = a && a.closest && a.closest("td.n");
          return td && td.dataset.severity ? { p: td.dataset.practice, s: td.dataset.severity, n: Number(a.textContent) } : null;
        });
      }
      check(reached !== null, "Tab never reaches a summary cell");
      if (reached) {
        await page.keyboard.press("Enter");
        const got = await expectShown(`keyboard cell ${reached.p}/${reached.s}`,
          (f) => f.practice === reached.p && f.severity === reached.s && f.status !== "suppressed");
        check(got === reached.n, `keyboard cell says ${reached.n}, shows ${got}`);
      }
    }
    await reset();
    await page.evaluate(() => window.scrollTo(0, 0));
    fs.mkdirSync(path.dirname(shot), { recursive: true });
    await page.screenshot({ path: shot });
    // Narrow screen: 420 px, nothing cut.
    await page.setViewportSize({ width: 420, height: 900 });
    await page.reload({ waitUntil: "load" });
    const narrow = await page.evaluate(() => {
      const vw = document.documentElement.clientWidth;
      const over = [];
      if (document.documentElement.scrollWidth > vw + 1) {
        over.push(`page is ${document.documentElement.scrollWidth}px wide in a ${vw}px viewport`);
      }
      document.querySelectorAll("table.summary th, table.summary td, #filters label, article.finding").forEach((e) => {
        const r = e.getBoundingClientRect();
        if (r.right > vw + 1 || r.left < -1) { over.push(`${e.tagName.toLowerCase()} "${e.textContent.slice(0, 30)}" spans ${Math.round(r.left)}..${Math.round(r.right)}`); }
      });
      return { vw, over: over.slice(0, 10) };
    });
    for (const o of narrow.over) { problems.push(`at ${narrow.vw}px: ${o}`); }
    summary.narrow_width = narrow.vw;
    await expectShown("narrow initial", (f) => f.status !== "suppressed");
    await page.screenshot({ path: shot.replace(/\.png$/, "-420.png") });
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
