package io.smartsim.launch.ai.dist;

import io.smartsim.launch.Experiment;
import io.smartsim.launch.Orchestrator;
import io.smartsim.launch.spec.TelemetrySpec;
import io.smartsim.launch.client.Client;
import io.smartsim.launch.client.TensorData;
import io.smartsim.launch.dashboard.Dashboard;
import io.smartsim.launch.dashboard.HttpAccess;
import io.smartsim.launch.telemetry.TelemetryOptions;
import io.smartsim.launch.testing.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
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
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * The dashboard's model charts in a real browser (Debian's chromium through Selenium, as the telemetry module's
 * DashboardBrowserIT): an {@code --ai onnx} orchestrator (the smartsim-ai module, the real model server) whose model a
 * client runs in a loop; the page draws "model calls/s" and "model latency" with the model's series. Keeps a
 * screenshot in {@code target/dashboard-models-it.png}.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class AiDashboardBrowserIT {
    @RegisterExtension
    final Leftovers leftovers = Leftovers.perTest();
    @TempDir
    Path dir;
    final AiTestbed bed = new AiTestbed(leftovers);

    @Test
    void thePageChartsTheModelsCallsPerSecondAndLatency() throws Exception {
        assumeThat(Path.of("/usr/bin/chromium")).as("Debian's chromium (run-tests installs it)").exists();
        assumeThat(Path.of("/usr/bin/chromedriver")).as("Debian's chromium-driver (run-tests installs it)").exists();
        int base = bed.ports(1);
        Path expDir = dir.resolve("exp");
        AtomicBoolean running = new AtomicBoolean(true);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Experiment exp = Experiment.create("ai-dash", expDir)) {
            Orchestrator db = exp.createOrchestrator(AiTestbed.spec(base, 1).auth(false)
                    .telemetry(TelemetrySpec.OFF).build());
            exp.start(db);
            Future<Integer> client = pool.submit(() -> {
                int n = 0;
                try (Client c = Client.fromEnvironment(db.dbEnv())) {
                    c.setModel("mlp", AiOrchestratorIT.MODEL, "ONNX", "CPU");
                    c.putTensor("x", TensorData.of(new float[] {1, 2, 3, 4}, 1, 4));
                    while (running.get()) {
                        c.runModel("mlp", List.of("x"), List.of("y"));
                        n++;
                        Thread.sleep(20);
                    }
                }
                return n;
            });
            try (Dashboard d = Dashboard.start(expDir, HttpAccess.forBind("127.0.0.1"), 0,
                    TelemetryOptions.defaults().withInterval(Duration.ofMillis(500)))) {
                leftovers.port(d.server().port());
                ChromeOptions options = new ChromeOptions().setBinary("/usr/bin/chromium")
                        .addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                "--window-size=1400,1500", "--user-data-dir=" + dir.resolve("chrome-profile"));
                ChromeDriverService service = new ChromeDriverService.Builder()
                        .usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort()
                        .withLogOutput(Files.newOutputStream(dir.resolve("chromedriver.log"))).build();
                WebDriver driver = new ChromeDriver(service, options);
                try {
                    driver.get(d.url());
                    WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(90), Duration.ofMillis(200));
                    wait.ignoring(StaleElementReferenceException.class);
                    for (String metric : List.of("modelCalls", "modelLatency")) {
                        By chart = By.cssSelector("section.orch .chart[data-metric='" + metric + "']");
                        wait.withMessage("the " + metric + " chart has 3 points").until(x -> !x.findElements(chart)
                                .isEmpty() && Integer.parseInt(x.findElement(chart).getAttribute("data-points")) >= 3);
                        WebElement e = driver.findElement(chart);
                        assertThat(e.findElements(By.tagName("canvas"))).isNotEmpty();
                        assertThat(e.getText()).contains("shard 0 mlp");
                    }
                    assertThat(driver.findElement(By.cssSelector(".chart[data-metric='modelCalls']")).getText())
                            .contains("model calls/s");
                    Path shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE).toPath();
                    Files.copy(shot, Path.of("target", "dashboard-models-it.png"), StandardCopyOption.REPLACE_EXISTING);
                } finally {
                    driver.quit();
                }
            } finally {
                running.set(false);
            }
            assertThat(client.get(60, TimeUnit.SECONDS)).isPositive();
            exp.stop(db);
        } finally {
            pool.shutdownNow();
        }
    }
}
