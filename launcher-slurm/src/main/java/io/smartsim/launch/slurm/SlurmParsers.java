package io.smartsim.launch.slurm;

import io.smartsim.launch.batch.Reports;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Pure parsers for the output of Slurm commands, in the formats {@link SlurmCommands} asks for. */
public final class SlurmParsers {
    private static final Pattern VERSION = Pattern.compile("(\\d+)\\.(\\d+)");

    private SlurmParsers() {
    }

    /** One job as {@code squeue -h -o '%i|%j|%T|%r|%N'} prints it; {@code nodeList} is empty while pending. */
    public record Job(String id, String name, String state, String reason, String nodeList) {
        public boolean running() {
            return state.equals("RUNNING");
        }

        /** Ended for good (squeue -t all still lists a job for a while after it ends, with its end state). */
        public boolean finished() {
            return !(running() || pending() || state.equals("COMPLETING") || state.equals("SUSPENDED")
                    || state.equals("RESIZING") || state.equals("REQUEUED") || state.equals("SIGNALING")
                    || state.equals("STAGE_OUT") || state.equals("STOPPED"));
        }

        public boolean pending() {
            return state.equals("PENDING") || state.equals("CONFIGURING");
        }
    }

    /** One running step as {@code squeue -h -s -o '%i|%j|%N'} prints it: {@code id} is {@code JOB.STEP}. */
    public record Step(String id, String name, String nodeList) {
        public String jobId() {
            int dot = id.indexOf('.');
            return dot < 0 ? id : id.substring(0, dot);
        }
    }

    /** One line of {@code sacct -n -P -o JobID,JobName,State,ExitCode,NodeList}. */
    public record Accounting(String id, String name, String state, String exitCode, String nodeList) {
    }

    /** {@code squeue -h -o '%i|%j|%T|%r|%N'}: the name is everything between the first and the last three bars. */
    public static List<Job> jobs(String out) {
        List<Job> jobs = new ArrayList<>();
        for (String line : lines(out)) {
            String[] f = line.split("\\|", -1);
            if (f.length < 5) {
                throw new IllegalArgumentException("not a squeue job line (id|name|state|reason|nodes): '" + line + "'");
            }
            int n = f.length;
            jobs.add(new Job(f[0], String.join("|", java.util.Arrays.copyOfRange(f, 1, n - 3)), f[n - 3], f[n - 2],
                    f[n - 1]));
        }
        return jobs;
    }

    /** {@code squeue -h -s -o '%i|%j|%N'}: running steps, the batch step included. */
    public static List<Step> steps(String out) {
        List<Step> steps = new ArrayList<>();
        for (String line : lines(out)) {
            String[] f = line.split("\\|", -1);
            if (f.length < 3) {
                throw new IllegalArgumentException("not a squeue step line (step|name|nodes): '" + line + "'");
            }
            int n = f.length;
            steps.add(new Step(f[0], String.join("|", java.util.Arrays.copyOfRange(f, 1, n - 1)), f[n - 1]));
        }
        return steps;
    }

    /** {@code sacct -n -P -o JobID,JobName,State,ExitCode,NodeList}. */
    public static List<Accounting> accounting(String out) {
        List<Accounting> rows = new ArrayList<>();
        for (String line : lines(out)) {
            String[] f = line.split("\\|", -1);
            if (f.length < 5) {
                throw new IllegalArgumentException("not a sacct line (id|name|state|exit|nodes): '" + line + "'");
            }
            int n = f.length;
            rows.add(new Accounting(f[0], String.join("|", java.util.Arrays.copyOfRange(f, 1, n - 3)), f[n - 3],
                    f[n - 2], f[n - 1]));
        }
        return rows;
    }

    /** A Slurm release, as {@code sinfo -V} names it ({@code slurm 22.05.8}; Debian: {@code slurm-wlm 22.05.8}). */
    public record Version(int major, int minor, String text) {
        /** Whether this release is at least {@code major.minor} (Slurm numbers releases YY.MM). */
        public boolean atLeast(int wantMajor, int wantMinor) {
            return major > wantMajor || (major == wantMajor && minor >= wantMinor);
        }
    }

    /** {@code sinfo -V}: the first {@code N.N} in its output. */
    public static Version version(String out) {
        Matcher m = VERSION.matcher(out);
        if (!m.find()) {
            throw new IllegalArgumentException("not a Slurm version (sinfo -V): '" + out.strip() + "'");
        }
        return new Version(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), out.strip());
    }

    /** {@code scontrol show hostnames LIST}: one node name a line. */
    public static List<String> hostnames(String out) {
        return lines(out);
    }

    /** {@code sbatch --parsable}: {@code JOBID} or {@code JOBID;CLUSTER}. */
    public static String parsableJobId(String out) {
        String first = lines(out).stream().findFirst().orElseThrow(() ->
                new IllegalArgumentException("sbatch --parsable printed no job id"));
        String id = first.split(";", 2)[0].strip();
        if (!id.matches("[0-9]+")) {
            throw new IllegalArgumentException("sbatch --parsable printed '" + first + "', not a job id");
        }
        return id;
    }

    /**
     * {@code scontrol show job ID} (either layout, with or without {@code -o}): its {@code Key=Value} fields. A
     * value runs to the next white space, except the last fields of a line ({@code Command=}, {@code WorkDir=}...)
     * which keep their spaces.
     */
    public static Map<String, String> scontrolJob(String out) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String line : lines(out)) {
            for (String token : line.strip().split(" +(?=[A-Za-z/:_]+=)")) {
                int eq = token.indexOf('=');
                if (eq > 0) {
                    fields.putIfAbsent(token.substring(0, eq), token.substring(eq + 1).strip());
                }
            }
        }
        return fields;
    }

    /** Where a shard landed, as its wrapper reported it: {@code key=value} lines. */
    public record ShardReport(String address, List<String> addresses, int port, String node, String hostname,
                              String jobId, String stepId, Optional<Long> pid)
            implements io.smartsim.launch.batch.BatchDialect.Report {
        public ShardReport {
            addresses = List.copyOf(addresses);
        }

        /** Whether the address clients use is a loopback one (127/8 or ::1): reachable from its own host only. */
        public boolean loopback() {
            return address.startsWith("127.") || address.equals("::1");
        }

        public static ShardReport parse(String text) {
            Map<String, String> kv = Reports.fields(text, List.of("address", "port", "node", "job", "step"));
            Optional<Long> pid = Reports.pid(kv);
            String all = kv.getOrDefault("addresses", "").strip();
            List<String> addresses = all.isEmpty() ? List.of(kv.get("address")) : List.of(all.split("\\s+"));
            return new ShardReport(kv.get("address"), addresses, Integer.parseInt(kv.get("port")), kv.get("node"),
                    kv.getOrDefault("hostname", ""), kv.get("job"), kv.get("step"), pid);
        }
    }

    private static List<String> lines(String out) {
        return Reports.lines(out);
    }
}
