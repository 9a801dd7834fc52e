package io.smartsim.launch.testing;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Says in the build output why a test was skipped: "SKIPPED Class.method: reason", or for a whole class whose
 * {@code @BeforeAll} assumption failed, "SKIPPED Class (N tests): reason". Surefire and Failsafe (3.5.2) print no
 * reasons to the console, and a class skipped in {@code @BeforeAll} does not appear in their reports at all ("Tests
 * run: 0, Skipped: 0"), so such classes are also written to {@code target/junit-skips/*.tsv} (class, tests, reason),
 * which {@code tools/test-summary} adds to its counts. Registered for every module whose tests use this test-jar
 * (META-INF/services), found by JUnit's launcher.
 */
public final class SkipReport implements TestExecutionListener {
    private TestPlan plan;
    private Path file;

    @Override
    public void testPlanExecutionStarted(TestPlan testPlan) {
        plan = testPlan;
    }

    @Override
    public void executionSkipped(TestIdentifier id, String reason) {
        report(id, "disabled: " + reason);
    }

    @Override
    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
            report(id, result.getThrowable().map(t -> String.valueOf(t.getMessage())).orElse("(no reason given)"));
        }
    }

    private void report(TestIdentifier id, String reason) {
        String oneLine = reason.replaceAll("\\s+", " ").strip();
        if (id.isTest()) {
            System.out.println("SKIPPED " + name(id) + ": " + oneLine);
            return;
        }
        long tests = plan == null ? 0 : plan.getDescendants(id).stream().filter(TestIdentifier::isTest).count();
        System.out.println("SKIPPED " + name(id) + " (" + tests + " tests): " + oneLine);
        if (id.getSource().filter(ClassSource.class::isInstance).isPresent()) {
            record(name(id) + "\t" + tests + "\t" + oneLine.replace('\t', ' ') + "\n");
        }
    }

    private static String name(TestIdentifier id) {
        return id.getSource().map(s -> s instanceof MethodSource m ? simple(m.getClassName()) + "." + m.getMethodName()
                : s instanceof ClassSource c ? simple(c.getClassName()) : id.getDisplayName())
                .orElse(id.getDisplayName());
    }

    private static String simple(String className) {
        return className.substring(className.lastIndexOf('.') + 1);
    }

    private synchronized void record(String line) {
        try {
            if (file == null) {
                Path dir = Path.of(System.getProperty("basedir", ".")).resolve("target/junit-skips");
                Files.createDirectories(dir);
                file = dir.resolve(System.currentTimeMillis() + "-" + ProcessHandle.current().pid() + ".tsv");
            }
            Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.out.println("SkipReport: cannot record the skip in " + file + ": " + e.getMessage());
        }
    }
}
