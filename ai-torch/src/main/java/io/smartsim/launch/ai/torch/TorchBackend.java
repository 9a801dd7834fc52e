package io.smartsim.launch.ai.torch;

import io.smartsim.launch.ai.AiException;
import io.smartsim.launch.ai.Tensor;
import io.smartsim.launch.ai.spi.AiBackend;
import io.smartsim.launch.ai.spi.LoadedModel;
import io.smartsim.launch.ai.spi.ModelOptions;
import io.smartsim.launch.ai.spi.ModelTimeoutException;

import java.time.Duration;
import java.util.List;

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

    @Override
    public LoadedModel load(byte[] blob, ModelOptions options) {
        TorchRuntime.intraOpThreads(options.intraOpThreads());
        TorchModule module = TorchModule.load(blob, options.gpuOrdinal());
        if (!module.hasMethod("forward")) {
            module.close();
            throw new AiException("ERR TorchScript model has no forward method");
        }
        return new TorchModel(module);
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
            return module.call("forward", inputs, List.of(), timeout);
        }

        @Override
        public void close() {
            module.close();
        }
    }
}
