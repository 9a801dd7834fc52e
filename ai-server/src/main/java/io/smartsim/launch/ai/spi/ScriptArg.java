package io.smartsim.launch.ai.spi;

import io.smartsim.launch.ai.Tensor;

import java.util.List;

/** One argument of a script function call, as AI.SCRIPTRUN and AI.SCRIPTEXECUTE build them. */
public sealed interface ScriptArg {

    /** A tensor argument: one INPUTS key of AI.SCRIPTRUN. */
    record One(Tensor tensor) implements ScriptArg {
    }

    /** A {@code List[Tensor]} argument: AI.SCRIPTRUN's inputs after {@code $}, or AI.SCRIPTEXECUTE's INPUTS. */
    record Tensors(List<Tensor> tensors) implements ScriptArg {
        public Tensors {
            tensors = List.copyOf(tensors);
        }
    }

    /** A {@code List[str]} argument: AI.SCRIPTEXECUTE's KEYS or ARGS. */
    record Strings(List<String> strings) implements ScriptArg {
        public Strings {
            strings = List.copyOf(strings);
        }
    }
}
