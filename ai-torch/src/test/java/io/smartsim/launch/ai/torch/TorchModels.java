package io.smartsim.launch.ai.torch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * TorchScript models written for the tests by Debian's python3-torch (1.13; {@code apt-get install python3-torch},
 * which run-tests does), each with known weights so the tests can compute the expected outputs themselves. Nothing is
 * downloaded. Without python3-torch the tests fail, saying what to install.
 */
final class TorchModels {
    /** The linear layer's weight (out 2 x in 3, as torch.nn.Linear stores it) and bias. */
    static final float[] W = {1, -1, 3, 2, 0.5f, -2};
    static final float[] B = {0.25f, -1};

    private TorchModels() {
    }

    /** {@code y = x W^T + B} for x of shape (n, 3): torch.nn.Linear(3, 2), scripted. */
    static byte[] linear() throws IOException, InterruptedException {
        return save(String.join("\n",
                "class M(torch.nn.Module):",
                "    def __init__(self):",
                "        super().__init__()",
                "        self.l = torch.nn.Linear(3, 2)",
                "        with torch.no_grad():",
                "            self.l.weight.copy_(torch.tensor([[1., -1., 3.], [2., 0.5, -2.]]))",
                "            self.l.bias.copy_(torch.tensor([0.25, -1.]))",
                "    def forward(self, x):",
                "        return self.l(x)"));
    }

    /** Two inputs and two outputs: {@code (a + b, a * b)}. */
    static byte[] sumAndProduct() throws IOException, InterruptedException {
        return save(String.join("\n",
                "class M(torch.nn.Module):",
                "    def forward(self, a, b):",
                "        return a + b, a * b"));
    }

    /** {@code steps} (an int64 scalar tensor) rounds of {@code x = tanh(x @ x)}: as slow as asked. */
    static byte[] slow() throws IOException, InterruptedException {
        return save(String.join("\n",
                "class M(torch.nn.Module):",
                "    def forward(self, x, steps):",
                "        for _ in range(int(steps.item())):",
                "            x = torch.tanh(x @ x)",
                "        return x"));
    }

    /** Runs {@code body} (which defines class M) under python3 with torch, and returns the scripted M as saved. */
    private static byte[] save(String body) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("torch-model-");
        Path script = dir.resolve("make.py"); // torch.jit.script reads the class's source from a file
        Path out = dir.resolve("model.pt");
        Files.writeString(script, "import sys, torch\n" + body + "\ntorch.jit.script(M()).save(sys.argv[1])\n");
        List<String> tried = new ArrayList<>();
        for (String py : List.of("/usr/bin/python3", "python3")) {
            try {
                Process p = new ProcessBuilder(py, script.toString(), out.toString()).redirectErrorStream(true).start();
                String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    tried.add(py + ": no answer within 120 s");
                } else if (p.exitValue() == 0) {
                    return Files.readAllBytes(out);
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
