package io.smartsim.launch.ai.torch;

import io.smartsim.launch.testing.TmpLitter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * TorchScript models written for the tests by Debian's python3-torch (1.13; {@code apt-get install python3-torch},
 * which run-tests does), each with known weights so the tests can compute the expected outputs themselves. Nothing is
 * downloaded. Without python3-torch the tests fail, saying what to install.
 */
public final class TorchModels {
    /** The linear layer's weight (out 2 x in 3, as torch.nn.Linear stores it) and bias. */
    public static final float[] W = {1, -1, 3, 2, 0.5f, -2};
    public static final float[] B = {0.25f, -1};

    /** The models' Python source: each class is scripted and saved under its name. */
    private static final String SOURCE = String.join("\n",
            "import sys, torch",
            "",
            "class linear(torch.nn.Module):  # y = x W^T + B for x of shape (n, 3): torch.nn.Linear(3, 2)",
            "    def __init__(self):",
            "        super().__init__()",
            "        self.l = torch.nn.Linear(3, 2)",
            "        with torch.no_grad():",
            "            self.l.weight.copy_(torch.tensor([[1., -1., 3.], [2., 0.5, -2.]]))",
            "            self.l.bias.copy_(torch.tensor([0.25, -1.]))",
            "    def forward(self, x):",
            "        return self.l(x)",
            "",
            "class sum_and_product(torch.nn.Module):  # two inputs, two outputs",
            "    def forward(self, a, b):",
            "        return a + b, a * b",
            "",
            "class wait_at_gate(torch.nn.Module):  # opens the named pipe at self.gate: waits until a writer opens it",
            "    def __init__(self, gate: str):",
            "        super().__init__()",
            "        self.gate = gate  # an attribute, not a constant: read when the model runs, never when it loads",
            "    def forward(self, x):",
            "        return x + torch.from_file(self.gate, False, 1).sum()",
            "",
            "for m in (linear(), sum_and_product(), wait_at_gate(sys.argv[1] + '/gate')):",
            "    torch.jit.script(m).save(sys.argv[1] + '/' + type(m).__name__ + '.pt')",
            "");

    private static Map<String, byte[]> models;
    private static Path dir;

    private TorchModels() {
    }

    /** {@code y = x W^T + B} for x of shape (n, 3): torch.nn.Linear(3, 2), scripted. */
    public static byte[] linear() throws IOException, InterruptedException {
        return all().get("linear");
    }

    /** Two inputs and two outputs: {@code (a + b, a * b)}. */
    public static byte[] sumAndProduct() throws IOException, InterruptedException {
        return all().get("sum_and_product");
    }

    /**
     * {@code x + sum(torch.from_file(gate))}: a run opens the named pipe {@link #gate()} for reading, so it waits
     * there until a writer opens it (see {@link PipeGate}).
     */
    public static byte[] waitAtGate() throws IOException, InterruptedException {
        return all().get("wait_at_gate");
    }

    /** Where {@link #waitAtGate()} looks for its pipe: fixed when the models are written. */
    public static Path gate() throws IOException, InterruptedException {
        all();
        return dir.resolve("gate");
    }

    /** All the models, written by one python3 run (importing torch takes seconds). */
    private static synchronized Map<String, byte[]> all() throws IOException, InterruptedException {
        if (models == null) {
            Path saved = save(SOURCE);
            Map<String, byte[]> m = new HashMap<>();
            for (String name : List.of("linear", "sum_and_product", "wait_at_gate")) {
                m.put(name, Files.readAllBytes(saved.resolve(name + ".pt")));
            }
            dir = saved;
            models = m;
        }
        return models;
    }

    /**
     * Runs {@code script} under python3 with torch, with a fresh directory as its argument, and returns it: the
     * module's {@code target/torch-models}, not /tmp, since it lives as long as this JVM (the gate model names a pipe
     * in it), and a JVM's end is no place to clean up (one killed at its time limit would leave it behind).
     */
    private static Path save(String script) throws IOException, InterruptedException {
        Path dir = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().resolve("target/torch-models");
        TmpLitter.delete(dir); // an earlier JVM's
        Files.createDirectories(dir);
        Path file = dir.resolve("make.py"); // torch.jit.script reads the classes' source from a file
        Files.writeString(file, script);
        List<String> tried = new ArrayList<>();
        for (String py : List.of("/usr/bin/python3", "python3")) {
            try {
                Process p = new ProcessBuilder(py, file.toString(), dir.toString()).redirectErrorStream(true).start();
                String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    tried.add(py + ": no answer within 120 s");
                } else if (p.exitValue() == 0) {
                    return dir;
                } else {
                    tried.add(py + " exited " + p.exitValue() + ": " + log.strip());
                }
            } catch (IOException e) {
                tried.add(py + ": " + e.getMessage());
            }
        }
        throw new IllegalStateException("could not write a TorchScript model with python3 and torch (Debian: apt-get "
                + "install python3-torch): " + String.join("; ", tried));
    }
}
