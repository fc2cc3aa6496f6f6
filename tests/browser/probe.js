// Opens a page in headless Chromium, waits for its probe, prints it.
// usage: node probe.js URL [SCREENSHOT.png]
const { chromium } = require("playwright-core");

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
           "--disable-background-networking", "--disable-component-update"],
  });
  const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  await page.goto(process.argv[2]);
  await page.waitForFunction(() => document.getElementById("out").textContent !== "pending",
                             null, { timeout: 60000 });
  console.log(await page.textContent("#out"));
  if (process.argv[3]) await page.screenshot({ path: process.argv[3] });
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
