// Drives the exported page in headless Chromium as a user would, and prints what it shows as JSON.
//   node web_check.cjs URL INPUT.png REFERENCE.png NOT_AN_IMAGE SCREENSHOT.png
// (playwright-core from munit_tf/portable/web/node_modules, found through NODE_PATH)
const { chromium } = require("playwright-core");

const [url, input, reference, notImage, screenshot] = process.argv.slice(2);

async function pixels(page, selector) {
  return page.$$eval(selector, (canvases) =>
    canvases.map((c) => Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data)),
  );
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage();
  const requests = [];
  page.on("request", (request) => requests.push(request.url()));
  await page.goto(url);
  await page.waitForFunction(() => window.munit && (window.munit.ready || window.munit.failed),
    null, { timeout: 120000 });
  const result = { requests };
  result.failed = await page.evaluate(() => window.munit.failed || null);
  result.status = await page.textContent("#status");
  result.statusIsError = await page.$eval("#status", (e) => e.classList.contains("error"));
  if (!result.failed) {
    await page.setInputFiles("#file", input);
    await page.waitForFunction(() => window.munit.runs >= 1, null, { timeout: 120000 });
    result.codes = await page.evaluate(() => window.munit.codes.map((c) => Array.from(c)));
    result.translations = await pixels(page, "canvas.translation");
    result.walked = (await pixels(page, "#walked"))[0];
    result.afterTranslate = await page.textContent("#status");
    await page.setInputFiles("#reference", reference);
    await page.waitForFunction(
      () => document.getElementById("status").textContent.includes("reference"), null,
      { timeout: 120000 });
    result.guided = (await pixels(page, "#guided"))[0];
    await page.locator("#translations").screenshot({ path: screenshot });
    await page.setInputFiles("#file", notImage);
    await page.waitForFunction(
      () => document.getElementById("status").classList.contains("error"), null,
      { timeout: 60000 });
    result.notImageStatus = await page.textContent("#status");
  }
  await browser.close();
  process.stdout.write(JSON.stringify(result));
})().catch((error) => {
  process.stderr.write(String(error.stack || error));
  process.exit(1);
});
