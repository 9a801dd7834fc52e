package io.smartsim.launch.ai.torch;

import io.smartsim.launch.ai.AiException;
import io.smartsim.launch.ai.DType;
import io.smartsim.launch.ai.Tensor;
import io.smartsim.launch.ai.spi.AiBackend;
import io.smartsim.launch.ai.spi.LoadedModel;
import io.smartsim.launch.ai.spi.LoadedScript;
import io.smartsim.launch.ai.spi.ModelOptions;
import io.smartsim.launch.ai.spi.ModelTimeoutException;
import io.smartsim.launch.ai.spi.ScriptArg;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * libtorch 2.7 (the CPU build from Maven Central, through DJL's PyTorch engine) as the "TORCH" backend: TorchScript
 * models as {@code torch.jit.save} writes them, and TorchScript source scripts. Nothing is downloaded at run time.
 */
public final class TorchBackend implements AiBackend {

    @Override
    public String name() {
        return "TORCH";
    }

    @Override
    public String version() {
        return TorchRuntime.engine().getVersion();
    }

    /**
     * Loads libtorch, then compiles and runs a one-line script: the first TorchScript compile initialises libtorch's
     * compiler (measured: past SmartRedis's 250 ms on a loaded 2-core machine, issue 16), and the first run its
     * executor.
     */
    @Override
    public void warmUp() {
        version();
        LoadedScript warm = loadScript("def warm_up(x):\n    return x + x\n",
                new ModelOptions("CPU", List.of(), List.of(), 0));
        try {
            warm.run("warm_up", List.of(new ScriptArg.One(new Tensor(DType.FLOAT, new long[] {1}, new byte[4]))), null);
        } catch (Exception e) {
            throw new IllegalStateException("TORCH: the warm-up script did not run: " + e.getMessage(), e);
        } finally {
            warm.close();
        }
    }

    @Override
    public LoadedModel load(byte[] blob, ModelOptions options) {
        TorchRuntime.intraOpThreads(options.intraOpThreads());
        TorchModule module = TorchModule.load(blob, options.gpuOrdinal());
        if (!module.methods().contains("forward")) {
            module.close();
            throw new AiException("ERR TorchScript model has no forward method");
        }
        return new TorchModel(module);
    }

    /**
     * Compiles TorchScript source: libtorch's own compiler runs when the archive {@link TorchScriptSource} makes from
     * it is loaded. A compile error is answered with libtorch's message, which names the line.
     */
    @Override
    public LoadedScript loadScript(String source, ModelOptions options) {
        TorchRuntime.intraOpThreads(options.intraOpThreads());
        TorchScriptSource parsed = TorchScriptSource.parse(source);
        TorchModule module = TorchModule.load(parsed.archive(), options.gpuOrdinal());
        return new TorchScript(module, Set.copyOf(parsed.functionNames()), Set.copyOf(parsed.executeFunctions()));
    }

    /** A compiled script: one module method per top-level function. */
    private static final class TorchScript implements LoadedScript {
        private final TorchModule module;
        private final Set<String> functions;
        private final Set<String> executeForm;

        TorchScript(TorchModule module, Set<String> functions, Set<String> executeForm) {
            this.module = module;
            this.functions = functions;
            this.executeForm = executeForm;
        }

        @Override
        public Set<String> functions() {
            return functions;
        }

        @Override
        public List<Tensor> run(String function, List<ScriptArg> args, Duration timeout)
                throws ModelTimeoutException {
            if (args.stream().noneMatch(a -> a instanceof ScriptArg.Strings)) {
                return module.call(function, args, timeout);
            }
            // AI.SCRIPTEXECUTE: (List[Tensor], List[str], List[str]), through the function's adapter method.
            if (!executeForm.contains(function) || args.size() != 3 || !(args.get(0) instanceof ScriptArg.Tensors)) {
                throw new AiException("ERR AI.SCRIPTEXECUTE calls fn(tensors: List[Tensor], keys: List[str], "
                        + "args: List[str]); '" + function + "' is not declared so");
            }
            List<ScriptArg> padded = new ArrayList<>();
            padded.add(args.get(0));
            for (ScriptArg a : args.subList(1, 3)) {
                List<String> l = new ArrayList<>();
                l.add("");
                l.addAll(((ScriptArg.Strings) a).strings());
                padded.add(new ScriptArg.Strings(l));
            }
            return module.call(TorchScriptSource.EXECUTE_PREFIX + function, padded, timeout);
        }

        @Override
        public void close() {
            module.close();
        }
    }

    /** A TorchScript model: its forward method. */
    private static final class TorchModel implements LoadedModel {
        private final TorchModule module;

        TorchModel(TorchModule module) {
            this.module = module;
        }

        /** libtorch tells the argument count only when called; a wrong count is refused by the run itself. */
        @Override
        public int inputCount() {
            return -1;
        }

        @Override
        public int outputCount() {
            return -1;
        }

        @Override
        public List<Tensor> run(List<Tensor> inputs, Duration timeout) throws ModelTimeoutException {
            List<ScriptArg> args = new ArrayList<>(inputs.size());
            inputs.forEach(t -> args.add(new ScriptArg.One(t)));
            return module.call("forward", args, timeout);
        }

        @Override
        public void close() {
            module.close();
        }
    }
}
