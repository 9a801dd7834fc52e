package io.smartsim.launch.exec;

import io.smartsim.launch.error.LaunchException;
import io.smartsim.launch.util.LogTail;
import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ExecuteWatchdog;
import org.apache.commons.exec.PumpStreamHandler;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Runs commands on this machine with commons-exec: argv only, a watchdog on every call, both streams captured. */
public final class LocalCommandRunner implements CommandRunner {

    @Override
    public CommandResult run(List<String> argv, Map<String, String> env, Duration timeout) {
        CommandLine cmd = new CommandLine(argv.get(0));
        argv.subList(1, argv.size()).forEach(a -> cmd.addArgument(a, false));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        DefaultExecutor ex = new DefaultExecutor();
        ex.setStreamHandler(new PumpStreamHandler(out, err));
        ExecuteWatchdog watchdog = ExecuteWatchdog.builder().setTimeout(timeout).get();
        ex.setWatchdog(watchdog);
        ex.setExitValues(null); // every exit code is a result; the caller judges it
        Map<String, String> fullEnv = new HashMap<>(System.getenv());
        fullEnv.putAll(env);
        int code;
        try {
            code = ex.execute(cmd, fullEnv);
        } catch (IOException e) {
            throw new LaunchException("cannot run `" + String.join(" ", argv) + "`: " + e.getMessage(), e);
        }
        if (watchdog.killedProcess()) {
            throw new LaunchException("`" + String.join(" ", argv) + "` did not finish within " + timeout.toSeconds()
                    + " s and was killed");
        }
        return new CommandResult(argv, code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Override
    public String logTail(Path file, int max) {
        return LogTail.block(file, max);
    }

    @Override
    public String where() {
        return "localhost";
    }
}
