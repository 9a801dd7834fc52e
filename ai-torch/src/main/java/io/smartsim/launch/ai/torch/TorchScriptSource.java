package io.smartsim.launch.ai.torch;

import io.smartsim.launch.ai.AiException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Turns a RedisAI script (TorchScript source: top-level {@code def}s, as SmartRedis's set_script and set_function
 * send) into a TorchScript archive that libtorch compiles when it loads it. RedisAI compiled scripts with
 * {@code torch::jit::compile}, which neither DJL nor any other Java binding of libtorch exposes. But loading an
 * archive ({@code torch::jit::load}) runs the same TorchScript compiler over the archive's {@code code/} sources. So
 * the script's functions go, unchanged but for two rewrites, into {@code code/__torch__.py} of an archive whose module
 * has one method per function that calls it:
 * <ul>
 *   <li>calls from one script function to another become {@code __torch__.name(...)}: names in archive code are
 *       resolved by qualified name only;</li>
 *   <li>top-level {@code import} lines are blanked (scripts may start with {@code import torch}; archive code has
 *       {@code torch} built in).</li>
 * </ul>
 * Lines keep their numbers, so libtorch's compile errors point at the user's own lines. Un-annotated parameters are
 * Tensors, as in {@code torch.jit.script}.
 */
final class TorchScriptSource {
    /** The archive's module class; not a name a script would define. */
    static final String MODULE_CLASS = "SmartsimRedisaiScript";

    /** Prefix of the methods through which AI.SCRIPTEXECUTE calls {@code fn(tensors, keys, args)} functions. */
    static final String EXECUTE_PREFIX = "smartsim_execute__";

    /**
     * One top-level function: its name, parameter list text, return annotation (or empty), and whether it has
     * RedisAI 1.2.7's AI.SCRIPTEXECUTE signature {@code (List[Tensor], List[str], List[str])}.
     */
    record Function(String name, String params, List<String> paramNames, String returns, boolean executeForm) {
    }

    private final String code;
    private final Map<String, Function> functions;

    private TorchScriptSource(String code, Map<String, Function> functions) {
        this.code = code;
        this.functions = functions;
    }

    /**
     * Parses the script; refuses (with the reason) sources that have no top-level function. The first code line's
     * indentation is the script's base level, as libtorch's compiler takes it: SmartRedis's set_function sends
     * {@code inspect.getsource(fn)} of a function defined inside another, e.g. {@code "    def f(x):\n        return
     * x + 1\n"}, and RedisAI accepts it.
     */
    static TorchScriptSource parse(String source) {
        String src = dedent(source.replace("\r\n", "\n"));
        Map<String, Function> fns = new LinkedHashMap<>();
        StringBuilder kept = new StringBuilder();
        int pos = 0;
        while (pos <= src.length()) {
            int eol = src.indexOf('\n', pos);
            if (eol < 0) {
                eol = src.length();
            }
            String line = src.substring(pos, eol);
            if (line.startsWith("import ") || line.startsWith("from ")) {
                kept.append('\n'); // keep the line count
            } else {
                if (line.startsWith("def ")) {
                    Function f = header(src, pos);
                    fns.put(f.name(), f);
                }
                kept.append(line).append('\n');
            }
            if (eol == src.length()) {
                break;
            }
            pos = eol + 1;
        }
        if (fns.isEmpty()) {
            throw new AiException("ERR script has no top-level function (def name(...):)");
        }
        return new TorchScriptSource(qualifyCalls(kept.toString(), fns.keySet()), fns);
    }

    /**
     * Removes the first code line's indentation (its leading spaces and tabs) from every line; blank and comment-only
     * lines are left as they are when they have less. A code line indented less than the first is refused, as libtorch
     * refuses it.
     */
    static String dedent(String src) {
        String[] lines = src.split("\n", -1);
        String base = null;
        for (String line : lines) {
            String t = line.strip();
            if (!t.isEmpty() && !t.startsWith("#")) {
                base = line.substring(0, line.length() - line.stripLeading().length());
                break;
            }
        }
        if (base == null || base.isEmpty()) {
            return src;
        }
        StringBuilder out = new StringBuilder(src.length());
        for (int k = 0; k < lines.length; k++) {
            String line = lines[k];
            if (line.startsWith(base)) {
                out.append(line, base.length(), line.length());
            } else {
                String t = line.strip();
                if (!t.isEmpty() && !t.startsWith("#")) {
                    throw new AiException("ERR script line " + (k + 1) + " is indented less than its first line ("
                            + base.length() + " characters of indentation)");
                }
                out.append(line.stripLeading());
            }
            if (k < lines.length - 1) {
                out.append('\n');
            }
        }
        return out.toString();
    }

    List<String> functionNames() {
        return List.copyOf(functions.keySet());
    }

    /** The functions AI.SCRIPTEXECUTE can call: those taking (List[Tensor], List[str], List[str]). */
    List<String> executeFunctions() {
        return functions.values().stream().filter(Function::executeForm).map(Function::name).toList();
    }

    /** The TorchScript archive (a zip, entries stored) for torch::jit::load. */
    byte[] archive() {
        StringBuilder py = new StringBuilder(code);
        py.append("class ").append(MODULE_CLASS).append("(Module):\n");
        py.append("  __parameters__ = []\n  __buffers__ = []\n  training : bool\n");
        for (Function f : functions.values()) {
            py.append("  def ").append(f.name()).append("(self");
            if (!f.params().isBlank()) {
                py.append(", ").append(f.params());
            }
            py.append(")").append(f.returns()).append(":\n");
            py.append("    return __torch__.").append(f.name()).append("(")
                    .append(String.join(", ", f.paramNames())).append(")\n");
            if (f.executeForm()) {
                // DJL cannot make an empty List[str] IValue (it infers the element type from the first element), so
                // AI.SCRIPTEXECUTE's KEYS and ARGS arrive with one extra leading element, dropped here.
                py.append("  def ").append(EXECUTE_PREFIX).append(f.name())
                        .append("(self, tensors: List[Tensor], keys: List[str], args: List[str])").append(f.returns())
                        .append(":\n    return __torch__.").append(f.name()).append("(tensors, keys[1:], args[1:])\n");
            }
        }
        // data.pkl: pickle protocol 2 of a __torch__.<MODULE_CLASS> object whose state is {"training": False}.
        ByteArrayOutputStream pkl = new ByteArrayOutputStream();
        pkl.writeBytes(new byte[] {(byte) 0x80, 2, 'c'});
        pkl.writeBytes(("__torch__\n" + MODULE_CLASS + "\n").getBytes(StandardCharsets.US_ASCII));
        pkl.writeBytes(new byte[] {'q', 0, ')', (byte) 0x81, '}', '(', 'X', 8, 0, 0, 0});
        pkl.writeBytes("training".getBytes(StandardCharsets.US_ASCII));
        pkl.writeBytes(new byte[] {'q', 1, (byte) 0x89, 'u', 'b', '.'});
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(zip)) {
            stored(z, "script/data.pkl", pkl.toByteArray());
            stored(z, "script/code/__torch__.py", py.toString().getBytes(StandardCharsets.UTF_8));
            stored(z, "script/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'}); // an empty tuple
            stored(z, "script/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory failed", e);
        }
        return zip.toByteArray();
    }

    private static void stored(ZipOutputStream z, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        z.putNextEntry(e);
        z.write(data);
        z.closeEntry();
    }

    /** Reads {@code def name(params) [-> type]:} starting at {@code at}, brackets and strings balanced. */
    private static Function header(String src, int at) {
        int i = at + 4;
        while (i < src.length() && src.charAt(i) == ' ') {
            i++;
        }
        int nameStart = i;
        while (i < src.length() && Character.isJavaIdentifierPart(src.charAt(i))) {
            i++;
        }
        String name = src.substring(nameStart, i);
        while (i < src.length() && src.charAt(i) == ' ') {
            i++;
        }
        if (name.isEmpty() || i >= src.length() || src.charAt(i) != '(') {
            throw new AiException("ERR cannot read the function header at line " + lineOf(src, at));
        }
        int close = matching(src, i);
        String params = src.substring(i + 1, close).replace('\n', ' ').strip();
        int colon = close + 1;
        int depth = 0;
        while (colon < src.length() && !(src.charAt(colon) == ':' && depth == 0)) {
            char c = src.charAt(colon);
            if (c == '[' || c == '(') {
                depth++;
            } else if (c == ']' || c == ')') {
                depth--;
            }
            colon++;
        }
        if (colon >= src.length()) {
            throw new AiException("ERR cannot read the function header at line " + lineOf(src, at));
        }
        String returns = src.substring(close + 1, colon).replace('\n', ' ').strip();
        if (!returns.isEmpty()) {
            returns = " " + returns;
        }
        List<String> names = new ArrayList<>();
        List<String> types = new ArrayList<>();
        for (String p : splitTopLevel(params)) {
            String n = p.strip();
            if (n.isEmpty()) {
                continue;
            }
            int colonAt = n.indexOf(':');
            types.add(colonAt < 0 ? "" : n.substring(colonAt + 1).split("=")[0].replace(" ", ""));
            if (n.startsWith("*")) {
                throw new AiException("ERR TorchScript functions cannot take *args or **kwargs: " + name);
            }
            int cut = n.length();
            for (char c : new char[] {':', '='}) {
                int k = n.indexOf(c);
                if (k >= 0) {
                    cut = Math.min(cut, k);
                }
            }
            names.add(n.substring(0, cut).strip());
        }
        boolean executeForm = types.equals(List.of("List[Tensor]", "List[str]", "List[str]"));
        return new Function(name, params, names, returns, executeForm);
    }

    private static int matching(String src, int open) {
        int depth = 0;
        for (int i = open; i < src.length(); i++) {
            char c = src.charAt(i);
            if (c == '\'' || c == '"') {
                i = skipString(src, i) - 1;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                if (--depth == 0) {
                    return i;
                }
            }
        }
        throw new AiException("ERR unbalanced brackets in the function header at line " + lineOf(src, open));
    }

    private static List<String> splitTopLevel(String params) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < params.length(); i++) {
            char c = params.charAt(i);
            if (c == '\'' || c == '"') {
                i = skipString(params, i) - 1;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            } else if (c == ',' && depth == 0) {
                out.add(params.substring(start, i));
                start = i + 1;
            }
        }
        out.add(params.substring(start));
        return out;
    }

    /** Prefixes {@code __torch__.} to calls of the script's own functions, outside strings and comments. */
    static String qualifyCalls(String code, java.util.Set<String> names) {
        StringBuilder out = new StringBuilder(code.length() + 64);
        int i = 0;
        String previousWord = "";
        while (i < code.length()) {
            char c = code.charAt(i);
            if (c == '#') {
                int eol = code.indexOf('\n', i);
                eol = eol < 0 ? code.length() : eol;
                out.append(code, i, eol);
                i = eol;
            } else if (c == '\'' || c == '"') {
                int end = skipString(code, i);
                out.append(code, i, end);
                i = end;
            } else if (Character.isJavaIdentifierStart(c)) {
                int end = i;
                while (end < code.length() && Character.isJavaIdentifierPart(code.charAt(end))) {
                    end++;
                }
                String word = code.substring(i, end);
                int next = end;
                while (next < code.length() && code.charAt(next) == ' ') {
                    next++;
                }
                boolean attribute = i > 0 && code.charAt(i - 1) == '.';
                if (names.contains(word) && !attribute && !previousWord.equals("def") && next < code.length()
                        && code.charAt(next) == '(') {
                    out.append("__torch__.");
                }
                out.append(word);
                previousWord = word;
                i = end;
            } else {
                if (!Character.isWhitespace(c)) {
                    previousWord = "";
                }
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** The index just past the string literal starting at {@code i} (single, double or triple quoted). */
    private static int skipString(String s, int i) {
        char q = s.charAt(i);
        boolean triple = s.startsWith(String.valueOf(q).repeat(3), i);
        int j = i + (triple ? 3 : 1);
        while (j < s.length()) {
            char c = s.charAt(j);
            if (c == '\\') {
                j += 2;
                continue;
            }
            if (triple ? s.startsWith(String.valueOf(q).repeat(3), j) : c == q) {
                return j + (triple ? 3 : 1);
            }
            if (!triple && c == '\n') {
                return j; // unterminated: the compiler will say so
            }
            j++;
        }
        return s.length();
    }

    private static int lineOf(String src, int pos) {
        int line = 1;
        for (int i = 0; i < pos && i < src.length(); i++) {
            if (src.charAt(i) == '\n') {
                line++;
            }
        }
        return line;
    }
}
