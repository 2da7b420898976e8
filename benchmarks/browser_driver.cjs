// Opens the benchmark page (benchmarks/browser.py) in headless Chromium; prints its result and the
// browser's version.
const { chromium } = require("playwright-core");
(async () => {
  const browser = await chromium.launch({executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run"]});
  const page = await browser.newPage();
  await page.goto(process.argv[2]);
  await page.waitForFunction(() => window.result !== undefined, null, {timeout: 600000});
  process.stdout.write(JSON.stringify(await page.evaluate(() => window.result)));
  process.stdout.write("\n" + await browser.version());
  await browser.close();
})();
