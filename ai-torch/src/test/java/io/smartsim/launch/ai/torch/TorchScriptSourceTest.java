package io.smartsim.launch.ai.torch;

import io.smartsim.launch.ai.AiException;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TorchScriptSourceTest {

    @Test
    void callsBetweenScriptFunctionsAreQualifiedOutsideStringsCommentsAndAttributes() {
        String code = String.join("\n",
                "def f(x):",
                "    \"\"\"calls g(x)\"\"\"",
                "    y = g (x) + x.g(1) + other(x)  # g(x) here is a comment",
                "    return g(y) + 'g(' ",
                "");
        assertThat(TorchScriptSource.qualifyCalls(code, Set.of("f", "g"))).isEqualTo(String.join("\n",
                "def f(x):",
                "    \"\"\"calls g(x)\"\"\"",
                "    y = __torch__.g (x) + x.g(1) + other(x)  # g(x) here is a comment",
                "    return __torch__.g(y) + 'g(' ",
                ""));
    }

    @Test
    void headersAreReadWithAnnotationsDefaultsAndReturnTypes() {
        TorchScriptSource s = TorchScriptSource.parse(String.join("\n",
                "import torch",
                "from typing import List",
                "def a(x, y: List[Tensor],",
                "      z: int = 3) -> Tuple[Tensor, Tensor]:",
                "    return x, x",
                "def b():",
                "    return torch.zeros(1)",
                ""));
        assertThat(s.functionNames()).containsExactly("a", "b");
        assertThat(s.executeFunctions()).isEmpty();
    }

    @Test
    void onlyFunctionsWithTheScriptExecuteSignatureGetAnAdapter() {
        TorchScriptSource s = TorchScriptSource.parse(String.join("\n",
                "def run(tensors: List[Tensor], keys: List[str], args : List[ str ]):",
                "    return tensors[0]",
                "def other(tensors: List[Tensor], keys: List[str]):",
                "    return tensors[0]",
                ""));
        assertThat(s.executeFunctions()).containsExactly("run");
    }

    @Test
    void sourcesWithoutFunctionsOrWithVarargsAreRefused() {
        assertThatThrownBy(() -> TorchScriptSource.parse("x = 1\n")).isInstanceOf(AiException.class)
                .hasMessage("ERR script has no top-level function (def name(...):)");
        assertThatThrownBy(() -> TorchScriptSource.parse("def f(*xs):\n    return xs[0]\n"))
                .isInstanceOf(AiException.class)
                .hasMessage("ERR TorchScript functions cannot take *args or **kwargs: f");
    }

    @Test
    void indentedSourceAsSetFunctionSendsItTakesTheFirstLineAsTheBaseLevel() {
        // SmartRedis's set_function sends inspect.getsource(fn) of a function defined inside a test: indented.
        TorchScriptSource s = TorchScriptSource.parse("    def f(x):\n        return x + 1\n");
        assertThat(s.functionNames()).containsExactly("f");
        assertThat(TorchScriptSource.dedent("\n  # note\n    def f(x):\n\n\t\n        return g(x)\n    def g(y):\n"
                + "        return y\n")).isEqualTo("\n# note\ndef f(x):\n\n\n    return g(x)\ndef g(y):\n    return y\n");
        assertThat(TorchScriptSource.dedent("def f(x):\n    return x\n")).isEqualTo("def f(x):\n    return x\n");
        assertThatThrownBy(() -> TorchScriptSource.parse("    def f(x):\n        return x\ndef g(y):\n    return y\n"))
                .isInstanceOf(AiException.class)
                .hasMessage("ERR script line 3 is indented less than its first line (4 characters of indentation)");
    }
}
