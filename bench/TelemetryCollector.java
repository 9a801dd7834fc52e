import io.smartsim.launch.telemetry.Telemetry;
import io.smartsim.launch.telemetry.TelemetryOptions;
import io.smartsim.launch.spec.Durations;

import java.nio.file.Path;

/**
 * The collector alone, as the Experiment or `db watch` will run it (bench/telemetry-cost):
 * java -cp cli/target/smartsim-launch.jar bench/TelemetryCollector.java EXP_DIR [INTERVAL, default 5s]
 */
public class TelemetryCollector {
    public static void main(String[] args) throws InterruptedException {
        TelemetryOptions o = TelemetryOptions.defaults();
        if (args.length > 1) {
            o = o.withInterval(Durations.parse("interval", args[1]));
        }
        try (Telemetry t = Telemetry.startAll(Path.of(args[0]), o)) {
            System.out.println("collecting every " + o.interval());
            Thread.currentThread().join(); // until killed
        }
    }
}
