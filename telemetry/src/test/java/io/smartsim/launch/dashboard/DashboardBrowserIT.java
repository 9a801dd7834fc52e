package io.smartsim.launch.dashboard;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Model;
import io.smartsim.launch.status.ColocatedNode;
import io.smartsim.launch.spec.ColocatedDb;
import io.smartsim.launch.spec.ModelSpec;
import io.smartsim.launch.testing.Leftovers;
import io.smartsim.launch.telemetry.TelemetryOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * The dashboard in a real browser: Debian's chromium (headless) driven by Selenium through Debian's chromedriver,
 * both installed by run-tests, against a real 3-shard orchestrator, and against a model with a real colocated
 * database. Keeps screenshots in {@code target/dashboard-it*.png}.
 */
class DashboardBrowserIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest(); // shards, chromium and chromedriver (their profile is in dir)
    @TempDir
    Path dir;

    @Test
    void thePageShowsThreeHealthyShardsAChartAModelRunningAndEndingAndAKilledShardGoingDown() throws Exception {
        assumeThat(Path.of("/usr/bin/chromium")).as("Debian's chromium (run-tests installs it)").exists();
        assumeThat(Path.of("/usr/bin/chromedriver")).as("Debian's chromium-driver (run-tests installs it)").exists();
        Path expDir = dir.resolve("exp");
        try (RunningOrchestrator orch = RunningOrchestrator.start(expDir, leftovers, 3);
             Dashboard d = Dashboard.start(expDir, HttpAccess.forBind("127.0.0.1"), 0,
                     TelemetryOptions.defaults().withInterval(Duration.ofMillis(500)))) {
            leftovers.port(d.server().port());
            WebDriver driver = chrome(dir);
            try {
                driver.get(d.url());
                // The page redraws its tables on every update: an element found a moment ago can be gone; look again.
                WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(60), Duration.ofMillis(200));
                wait.ignoring(StaleElementReferenceException.class);
                By section = By.cssSelector("section.orch[data-id='" + orch.db.id() + "']");
                wait.withMessage("3 healthy shards listed")
                        .until(x -> x.findElement(section).findElements(By.cssSelector("tr.shard[data-health='up']"))
                                .size() == 3);
                assertThat(driver.findElement(section).getAttribute("data-state")).isEqualTo("RUNNING");
                assertThat(driver.findElement(By.id("experiment")).getText()).isEqualTo("telemetry-it");
                wait.withMessage("the memory chart has points of every shard")
                        .until(x -> Integer.parseInt(x.findElement(By.cssSelector(
                                "section.orch .chart[data-metric='usedMemory']")).getAttribute("data-points")) >= 6);
                // uPlot drew it: a canvas with the legend naming the three shards
                WebElement chart = driver.findElement(By.cssSelector("section.orch .chart[data-metric='usedMemory']"));
                assertThat(chart.findElements(By.tagName("canvas"))).isNotEmpty();
                assertThat(chart.getText()).contains("shard 0", "shard 1", "shard 2");
                screenshot(driver, "dashboard-it.png");

                // The tail of a shard's log, as a user clicks it.
                click(wait, By.cssSelector("tr.shard[data-shard='1'] a[data-log]"));
                wait.withMessage("the log of shard 1").until(x -> x.findElement(By.id("log")).getText()
                        .contains("Ready to accept connections"));

                // A model's status as it runs and ends, as its controller records it.
                Model sim = orch.exp.createModel(ModelSpec.builder("sim", "sh")
                        .args("-c", "echo step 1; sleep 3; echo sim done").build());
                orch.exp.start(sim);
                By simRow = By.cssSelector("#entities tr.entity[data-name='sim']");
                wait.withMessage("the model listed as RUNNING").until(x -> x.findElements(simRow).stream()
                        .anyMatch(e -> "RUNNING".equals(e.getAttribute("data-status"))));
                assertThat(orch.exp.waitFor(Duration.ofSeconds(60), sim)).isTrue();
                // on this host: the local launcher's node (the column was empty)
                String host = DashboardIT.shortHostname();
                wait.withMessage("the model listed as COMPLETED with exit code 0 on node " + host).until(x -> x
                        .findElements(simRow).stream().anyMatch(e -> "COMPLETED".equals(e.getAttribute("data-status"))
                                && e.findElements(By.tagName("td")).get(3).getText().equals("0")
                                && e.findElements(By.tagName("td")).get(5).getText().equals(host)));
                click(wait, By.cssSelector("#entities tr.entity[data-name='sim'] a[data-log]"));
                wait.withMessage("the model's output").until(x -> x.findElement(By.id("log")).getText()
                        .contains("sim done"));

                long pid = orch.pid(1);
                TelemetryIT.signal("KILL", pid);
                wait.withMessage("shard 1 marked down").until(x -> !x.findElements(
                        By.cssSelector("tr.shard[data-shard='1'][data-health='down']")).isEmpty());
                wait.withMessage("the shard-down event listed").until(x -> x.findElements(
                        By.cssSelector("#events tr.event[data-type='shard-down']")).stream()
                        .anyMatch(e -> e.getText().contains(" 1 ")));
                wait.withMessage("the other two still up").until(x -> x.findElements(
                        By.cssSelector("tr.shard[data-health='up']")).size() == 2);
                assertThat(driver.findElement(section).getAttribute("data-state")).isNotEqualTo("RUNNING");
                screenshot(driver, "dashboard-it-shard-down.png");
                assertThat(driver.getPageSource()).doesNotContain(orch.password());
            } finally {
                driver.quit();
            }
        }
    }

    @Test
    void aModelsColocatedDatabaseIsListedHealthyOnItsNodeWithItsLogThenEndedOnceTheApplicationEnds() throws Exception {
        assumeThat(Path.of("/usr/bin/chromium")).as("Debian's chromium (run-tests installs it)").exists();
        assumeThat(Path.of("/usr/bin/chromedriver")).as("Debian's chromium-driver (run-tests installs it)").exists();
        // the application: a rank that waits until the file "go" appears (at most 60 s), as ColocatedCliTest's
        Path app = dir.resolve("app.sh");
        Files.writeString(app, "#!/bin/bash\nend=$((SECONDS + 60))\n"
                + "while [ ! -e \"$1\" ] && [ \"$SECONDS\" -lt \"$end\" ]; do sleep 0.05; done\necho app done\n");
        Files.setPosixFilePermissions(app, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path go = dir.resolve("go");
        Path socket = dir.resolve("colo.sock");
        Path expDir = dir.resolve("exp");
        try (Experiment exp = Experiment.create("colocated-it", expDir)) {
            Model sim = exp.createModel(ModelSpec.builder("sim", app.toString()).args(go.toString())
                    .colocatedDb(ColocatedDb.unixSocket(socket.toString(), 0700)).build());
            exp.start(sim);
            try (Dashboard d = Dashboard.start(expDir, HttpAccess.forBind("127.0.0.1"), 0,
                    TelemetryOptions.defaults().withInterval(Duration.ofMillis(500)))) {
                leftovers.port(d.server().port());
                WebDriver driver = chrome(dir);
                try {
                    driver.get(d.url());
                    WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(60), Duration.ofMillis(200));
                    wait.ignoring(StaleElementReferenceException.class);
                    By row = By.cssSelector("#colocated tr.colocated[data-model='sim']");
                    wait.withMessage("the model's colocated database listed healthy").until(x -> x.findElements(row)
                            .stream().anyMatch(e -> "healthy".equals(e.getAttribute("data-health"))));
                    // what the page shows is what the API (and db status) says: node, address, server pid
                    List<ColocatedNode> nodes = sim.colocatedDatabases();
                    assertThat(nodes).hasSize(1);
                    ColocatedNode n = nodes.get(0);
                    assertThat(n.health()).isEqualTo("healthy");
                    wait.withMessage("node, address and pid of " + n).until(x -> {
                        WebElement r = x.findElement(row);
                        List<String> cells = r.findElements(By.tagName("td")).stream().map(WebElement::getText)
                                .toList();
                        return n.node().equals(r.getAttribute("data-node"))
                                && cells.subList(0, 5).equals(List.of("sim", n.node(), "healthy", "unix://" + socket,
                                Long.toString(n.pid())));
                    });
                    assertThat(driver.findElement(By.id("colocated")).isDisplayed()).isTrue();
                    // the model runs on the node its colocated database names
                    wait.withMessage("the model on node " + n.node()).until(x -> x.findElements(
                            By.cssSelector("#entities tr.entity[data-name='sim']")).stream().anyMatch(e -> e
                            .findElements(By.tagName("td")).get(5).getText().equals(n.node())));
                    click(wait, By.cssSelector("#colocated tr.colocated[data-model='sim'] a[data-log]"));
                    wait.withMessage(() -> "the tail of the database's log; the page shows: "
                            + driver.findElement(By.id("logname")).getText() + "\n"
                            + driver.findElement(By.id("log")).getText()).until(x -> x.findElement(By.id("log"))
                            // Redis 7.0 over a socket: "The server is now ready to accept connections at PATH"
                            .getText().toLowerCase(java.util.Locale.ROOT).contains("ready to accept connections"));
                    assertThat(driver.findElement(By.id("logname")).getText())
                            .isEqualTo("model=sim, colocated=" + n.node());
                    screenshot(driver, "dashboard-it-colocated.png");
                    // the query names a node, never a path; a node without a log has none to show
                    java.net.URI api = d.server().uri();
                    assertThat(DashboardIT.get(api.resolve("/api/log?model=sim&colocated=" + n.node())).body())
                            .containsIgnoringCase("ready to accept connections");
                    assertThat(DashboardIT.get(api.resolve("/api/log?model=sim&colocated=..%2F..%2Fetc%2Fpasswd"))
                            .statusCode()).isEqualTo(400);
                    assertThat(DashboardIT.get(api.resolve("/api/log?model=sim&colocated=nosuchnode")).statusCode())
                            .isEqualTo(404);

                    // the application ends: its keeper stops the database before the model is reported ended
                    Files.createFile(go);
                    assertThat(exp.waitFor(Duration.ofSeconds(60), sim)).isTrue();
                    // ended, with the pid its log names last
                    wait.withMessage("the colocated database listed as ended, pid " + n.pid()).until(x -> {
                        WebElement r = x.findElement(row);
                        return "ended".equals(r.getAttribute("data-health")) && r.findElements(By.tagName("td"))
                                .get(4).getText().equals(Long.toString(n.pid()));
                    });
                    wait.withMessage("the model listed as COMPLETED").until(x -> x.findElements(
                            By.cssSelector("#entities tr.entity[data-name='sim']")).stream()
                            .anyMatch(e -> "COMPLETED".equals(e.getAttribute("data-status"))));
                    assertThat(ProcessHandle.of(n.pid()).map(ProcessHandle::isAlive).orElse(false))
                            .as("the server, pid %d", n.pid()).isFalse();
                    assertThat(socket).doesNotExist();
                    screenshot(driver, "dashboard-it-colocated-ended.png");
                } finally {
                    driver.quit();
                }
            }
        }
    }

    /** Debian's chromium, headless, through Debian's chromedriver; its profile and the driver's log in {@code dir}. */
    static WebDriver chrome(Path dir) throws java.io.IOException {
        ChromeOptions options = new ChromeOptions().setBinary("/usr/bin/chromium")
                .addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--window-size=1400,1500", "--user-data-dir=" + dir.resolve("chrome-profile"));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort()
                .withLogOutput(Files.newOutputStream(dir.resolve("chromedriver.log"))).build();
        return new ChromeDriver(service, options);
    }

    static void click(WebDriverWait wait, By by) {
        wait.withMessage("click " + by).until(x -> {
            x.findElement(by).click();
            return true;
        });
    }

    static void screenshot(WebDriver driver, String name) throws Exception {
        File png = ((org.openqa.selenium.TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Path target = Path.of("target", name);
        Files.createDirectories(target.getParent());
        Files.copy(png.toPath(), target, StandardCopyOption.REPLACE_EXISTING);
    }
}
