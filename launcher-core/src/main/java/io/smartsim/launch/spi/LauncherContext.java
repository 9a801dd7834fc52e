package io.smartsim.launch.spi;

import io.smartsim.launch.exec.TransportSource;
import io.smartsim.launch.exec.Transports;

import java.util.Map;
import java.util.Objects;

/**
 * What a launcher works in, handed to it rather than reached for: where its commands run and its files live (the
 * transport: this machine, or a login node over SSH) and the environment it reads (a scheduler's job id variable).
 * {@link Launchers#find(String, LauncherContext)} binds a launcher to one ({@link Launcher#in}); tests hand in their
 * own transport or environment.
 *
 * @param transports the runner for a spec's launcher options or a shard's recorded handle
 * @param env        the environment, as this process's ({@code SLURM_JOB_ID}, {@code PBS_JOBID}, ...)
 */
public record LauncherContext(TransportSource transports, Map<String, String> env) {
    public LauncherContext {
        Objects.requireNonNull(transports, "transports");
        env = Map.copyOf(env);
    }

    /** This process's: its shared transport pool ({@link Transports#shared()}) and its environment. */
    public static LauncherContext process() {
        return new LauncherContext(Transports.shared(), System.getenv());
    }
}
