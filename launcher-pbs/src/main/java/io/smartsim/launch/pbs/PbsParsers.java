package io.smartsim.launch.pbs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smartsim.launch.batch.Reports;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Pure parsers for the output of PBS commands, both dialects. */
public final class PbsParsers {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern JOB_HEADER = Pattern.compile("^Job Id:\\s*(\\S+)\\s*$");
    private static final Pattern ATTRIBUTE = Pattern.compile("^(\\s+)([A-Za-z_][A-Za-z0-9_.]*) = ?(.*)$");
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._-]+");

    private PbsParsers() {
    }

    /**
     * One job as {@code qstat -f} shows it, either dialect.
     *
     * @param id         the full job id ({@code 13.vm})
     * @param name       {@code Job_Name}
     * @param state      {@code job_state}: one letter
     * @param exitStatus {@code Exit_status} (PBS Pro) or {@code exit_status} (Torque), once the job has one
     * @param comment    the scheduler's {@code comment} ("Not Running: No available resources on nodes"), or ""
     * @param execHost   {@code exec_host} ({@code n1/0+n2/0+n3/0}), or "" before the job runs
     */
    public record Job(String id, String name, String state, Optional<Integer> exitStatus, String comment,
                      String execHost) {
        public Job {
            exitStatus = exitStatus == null ? Optional.empty() : exitStatus;
        }

        /** Running ({@code R}), or an array job whose subjobs run ({@code B}). */
        public boolean running() {
            return state.equals("R") || state.equals("B");
        }

        /** Waiting to run: queued, held, waiting for its start time, in transit or moved. */
        public boolean waiting() {
            return state.equals("Q") || state.equals("H") || state.equals("W") || state.equals("T")
                    || state.equals("M");
        }

        /**
         * Queued with a scheduler comment that begins {@code Can Never Run:} (OpenPBS: the request exceeds what the
         * complex has, {@code Can Never Run: Insufficient amount of resource: ncpus (R: 12 A: 6 T: 6)}). Such a job
         * waits forever; {@code Not Running: ...} means it may still run later.
         */
        public boolean neverRuns() {
            return waiting() && comment.startsWith(CAN_NEVER_RUN);
        }

        /** Ended: finished ({@code F}, PBS Pro history), subjob finished ({@code X}), completed ({@code C}, Torque). */
        public boolean finished() {
            return state.equals("F") || state.equals("X") || state.equals("C");
        }

        /** The state as words, with the exit status and comment when there are any. */
        public String describe() {
            String words = switch (state) {
                case "Q" -> "queued";
                case "R" -> "running";
                case "E" -> "exiting";
                case "F" -> "finished";
                case "X" -> "finished (subjob)";
                case "C" -> "completed";
                case "H" -> "held";
                case "W" -> "waiting for its start time";
                case "T" -> "in transit";
                case "M" -> "moved to another server";
                case "S", "U" -> "suspended";
                case "B" -> "running (array)";
                default -> "in state " + state;
            };
            return words + exitStatus.map(e -> ", exit status " + e + exitMeaning(e)).orElse("")
                    + (comment.isBlank() ? "" : " (" + comment + ")");
        }
    }

    /** The start of the OpenPBS scheduler's comment on a job whose request can never be met. */
    static final String CAN_NEVER_RUN = "Can Never Run";
    /** {@code ncpus (R: 12 A: 6 T: 6)}: the resource, then requested, available and total (OpenPBS scheduler). */
    private static final Pattern SHORTFALL = Pattern.compile(
            "([A-Za-z_][A-Za-z0-9_.]*) \\(R: (\\S+) A: (\\S+) T: (\\S+)\\)");

    /**
     * The numbers of an OpenPBS {@code Can Never Run} comment in words: {@code ncpus (R: 12 A: 6 T: 6)} is
     * "12 ncpus requested, 6 available, 6 in total"; empty when the comment has no such numbers.
     */
    public static Optional<String> shortfall(String comment) {
        Matcher m = SHORTFALL.matcher(comment);
        if (!m.find()) {
            return Optional.empty();
        }
        return Optional.of(m.group(2) + " " + m.group(1) + " requested, " + m.group(3) + " available, " + m.group(4)
                + " in total");
    }

    /** What PBS's own exit statuses mean: negative ones are PBS's, above 256 a signal ended the job. */
    static String exitMeaning(int status) {
        if (status == -29) {
            return ": walltime exceeded";
        }
        if (status < 0) {
            return ": the job could not run (PBS exit code " + status + ")";
        }
        if (status > 256) {
            return ": killed by signal " + (status - 256) + (status == 271 ? " (SIGTERM, e.g. qdel)" : "");
        }
        return "";
    }

    /** {@code qsub}: the job id on the last line ({@code 13.vm}, or {@code 58} from Slurm's wrapper). */
    public static String jobId(String out) {
        List<String> l = lines(out);
        if (l.isEmpty()) {
            throw new IllegalArgumentException("qsub printed no job id");
        }
        String id = l.get(l.size() - 1).strip();
        if (!PbsOptions.JOB_ID.matcher(id).matches()) {
            throw new IllegalArgumentException("qsub printed '" + id + "', not a job id");
        }
        return id;
    }

    /** {@code qstat -f -F json} (PBS Pro / OpenPBS): every job under {@code Jobs}; no {@code Jobs} means none. */
    public static List<Job> qstatJson(String out) {
        if (out.isBlank()) {
            return List.of();
        }
        JsonNode root;
        try {
            root = JSON.readTree(out);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("qstat -F json printed something that is not JSON: "
                    + e.getOriginalMessage());
        }
        List<Job> jobs = new ArrayList<>();
        JsonNode all = root.path("Jobs");
        for (Iterator<Map.Entry<String, JsonNode>> it = all.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode j = e.getValue();
            JsonNode exit = j.path("Exit_status");
            jobs.add(new Job(e.getKey(), j.path("Job_Name").asText(""), j.path("job_state").asText("?"),
                    exit.isNumber() ? Optional.of(exit.asInt()) : Optional.empty(), j.path("comment").asText(""),
                    j.path("exec_host").asText("")));
        }
        return jobs;
    }

    /**
     * {@code qstat -f} text (Torque, PBS Pro, Slurm's wrapper): {@code Job Id: ID} then one {@code name = value}
     * attribute a line. Long values wrap onto lines indented deeper than the attributes (Torque: 8 spaces under
     * 4; PBS Pro: a tab under 4 spaces) and continue without a separator.
     */
    public static List<Job> qstatText(String out) {
        List<Job> jobs = new ArrayList<>();
        String id = null;
        String indent = null;
        String last = null;
        Map<String, String> attrs = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            line = line.replace("\r", "");
            Matcher h = JOB_HEADER.matcher(line);
            if (h.matches()) {
                if (id != null) {
                    jobs.add(job(id, attrs));
                }
                id = h.group(1);
                indent = null;
                last = null;
                attrs = new LinkedHashMap<>();
                continue;
            }
            if (id == null || line.isBlank()) {
                continue;
            }
            Matcher a = ATTRIBUTE.matcher(line);
            if (a.matches() && (indent == null || indent.equals(a.group(1)))) {
                indent = a.group(1);
                last = a.group(2);
                attrs.put(last, a.group(3).strip());
            } else if (last != null) {
                attrs.put(last, attrs.get(last) + line.strip());
            }
        }
        if (id != null) {
            jobs.add(job(id, attrs));
        }
        return jobs;
    }

    private static Job job(String id, Map<String, String> a) {
        String exit = a.getOrDefault("Exit_status", a.get("exit_status"));
        Optional<Integer> status = Optional.ofNullable(exit).filter(s -> s.matches("-?[0-9]+")).map(Integer::valueOf);
        return new Job(id, a.getOrDefault("Job_Name", ""), a.getOrDefault("job_state", "?"), status,
                a.getOrDefault("comment", ""), a.getOrDefault("exec_host", ""));
    }

    /** Whether two spellings name the same job: equal, or equal sequence numbers when one has no server suffix. */
    public static boolean sameJob(String a, String b) {
        if (a.equals(b)) {
            return true;
        }
        boolean aShort = !a.contains(".");
        boolean bShort = !b.contains(".");
        return aShort != bShort && sequence(a).equals(sequence(b));
    }

    private static String sequence(String id) {
        int dot = id.indexOf('.');
        return dot < 0 ? id : id.substring(0, dot);
    }

    /** The job in a parsed list, by {@link #sameJob}. */
    public static Optional<Job> find(List<Job> jobs, String id) {
        return jobs.stream().filter(j -> sameJob(j.id(), id)).findFirst();
    }

    /**
     * The distinct host names of {@code exec_host}, in order: {@code n1/0+n2/0+n3/0} (PBS Pro), {@code n1/0*2+n2/0*2}
     * (PBS Pro, several CPUs), {@code n1/0+n1/1+n2/0+n2/1} or {@code n1/0-1+n2/0-1} (Torque).
     */
    public static List<String> execHosts(String execHost) {
        List<String> hosts = new ArrayList<>();
        for (String chunk : execHost.split("\\+")) {
            String host = chunk.strip();
            int slash = host.indexOf('/');
            host = slash < 0 ? host : host.substring(0, slash);
            if (!host.isEmpty() && !hosts.contains(host)) {
                hosts.add(checkHost(host, "exec_host " + execHost));
            }
        }
        return hosts;
    }

    /** {@code PBS_NODEFILE}: one host name per slot (per {@code mpiprocs} chunk or {@code ppn}); distinct, in order. */
    public static List<String> nodeFile(String text) {
        List<String> hosts = new ArrayList<>();
        for (String line : lines(text)) {
            String host = line.strip();
            if (!hosts.contains(host)) {
                hosts.add(checkHost(host, "the node file"));
            }
        }
        return hosts;
    }

    /** For {@code pbsdsh -n}: the 0-based line of each distinct host's first appearance in {@code PBS_NODEFILE}. */
    public static Map<String, Integer> nodeFileFirstLines(String text) {
        Map<String, Integer> first = new LinkedHashMap<>();
        List<String> l = lines(text);
        for (int i = 0; i < l.size(); i++) {
            first.putIfAbsent(l.get(i).strip(), i);
        }
        return first;
    }

    private static String checkHost(String host, String where) {
        if (!HOST.matcher(host).matches()) {
            throw new IllegalArgumentException("'" + host + "' in " + where + " is not a host name");
        }
        return host;
    }

    /**
     * What a command wrote to its answer file ({@link PbsCommands#answerInFile}): its output (both streams) and the
     * exit code on the last line; empty when the file does not end with that line (not a whole answer).
     */
    public record NodeAnswer(int exitCode, String output) {
        public static Optional<NodeAnswer> parse(String text) {
            String body = text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
            int last = body.lastIndexOf('\n');
            String[] w = body.substring(last + 1).strip().split(" ");
            if (w.length != 2 || !w[0].equals(PbsCommands.EXIT_MARK) || !w[1].matches("-?[0-9]+")) {
                return Optional.empty();
            }
            return Optional.of(new NodeAnswer(Integer.parseInt(w[1]), last < 0 ? "" : body.substring(0, last + 1)));
        }
    }

    /** Where a shard landed, as its wrapper reported it: {@code key=value} lines. */
    public record ShardReport(String address, int port, String node, String hostname, String jobId,
                              Optional<Long> pid) implements io.smartsim.launch.batch.BatchDialect.Report {
        public static ShardReport parse(String text) {
            Map<String, String> kv = Reports.fields(text, List.of("address", "port", "node"));
            Optional<Long> pid = Reports.pid(kv);
            return new ShardReport(kv.get("address"), Integer.parseInt(kv.get("port")), kv.get("node"),
                    kv.getOrDefault("hostname", ""), kv.getOrDefault("job", ""), pid);
        }
    }

    private static List<String> lines(String out) {
        return Reports.lines(out);
    }
}
