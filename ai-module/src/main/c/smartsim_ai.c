/*
 * smartsim-ai: the AI.* commands that SmartRedis sends, inside redis-server (see docs/ai.md, "Serving inside Redis: the AI module").
 *
 * Registers every AI command SmartRedis 0.6.1 sends (shared/notes/redisai.md) with its key positions, so that
 * Redis itself answers MOVED/ASK/CROSSSLOT and applies ACLs to them. AI.TENSORSET and AI.TENSORGET run here,
 * on the event loop, with the argument rules, replies and error texts of the Java front (ai-server,
 * AiCommands), and store tensors in its documented layout (TensorCodec):
 *
 *   offset 0  "SSAT", 1 (layout version), dtype code, number of dimensions n, 0
 *          8  n x int64 little-endian dimensions
 *     8 + 8n  the element bytes, C order, as sent with BLOB
 *
 * A tensor is a plain string value, so EXISTS, DEL, RENAME, EXPIRE, RDB and AOF treat it like any other key.
 * AI.TENSORSET is replicated and written to the AOF verbatim (replicas and an AOF replay load the module too).
 *
 * The model and script commands answer "ERR model server not connected": they are to be forwarded to the
 * JVM model server through the blocked-client API (next step, issue 16).
 *
 * Built with gcc -O2 -fPIC -shared -Wall -Wextra -Werror by ai-module's pom (src/main/c/build.sh).
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module_api.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the tensor layout stores little-endian dimensions; this source assumes a little-endian host"
#endif

static struct rm_api RM;

#define TENSOR_EMPTY "ERR tensor key is empty or in a different shard"
#define WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
#define NO_MODEL_SERVER "ERR model server not connected"

#define HEADER 8
#define MAX_DIMS 255
/* The front's limit (AiCommands.parseTensor): the element bytes of one tensor stay below 2 GiB. */
#define MAX_DATA ((long long)INT_MAX - 64)
/* Tensors up to this size are built on the stack before they are copied into their Redis string. */
#define STACK_VALUE 4096

/* ------------------------------------------------------------------ dtypes */

struct dtype {
    const char *name;
    unsigned char code; /* the layout's dtype byte, as ai-server's DType */
    unsigned char size; /* bytes per element */
};

static const struct dtype DTYPES[] = {
    {"FLOAT", 1, 4}, {"DOUBLE", 2, 8}, {"INT8", 3, 1},  {"INT16", 4, 2},
    {"INT32", 5, 4}, {"INT64", 6, 8},  {"UINT8", 7, 1}, {"UINT16", 8, 2},
};
#define NDTYPES (sizeof DTYPES / sizeof DTYPES[0])

/* ------------------------------------------------------------------ argument helpers */

/* ASCII case-insensitive equality of an argument with a word (the front's equalsIgnoreCase). */
static int arg_is(RedisModuleString *arg, const char *word) {
    size_t n, w = strlen(word);
    const char *p = RM.StringPtrLen(arg, &n);
    if (n != w) return 0;
    for (size_t i = 0; i < n; i++) {
        char a = p[i], b = word[i];
        if (a >= 'a' && a <= 'z') a = (char)(a - 'a' + 'A');
        if (a != b) return 0;
    }
    return 1;
}

static const struct dtype *dtype_of_name(RedisModuleString *arg) {
    for (size_t i = 0; i < NDTYPES; i++)
        if (arg_is(arg, DTYPES[i].name)) return &DTYPES[i];
    return NULL;
}

static const struct dtype *dtype_of_code(unsigned char code) {
    for (size_t i = 0; i < NDTYPES; i++)
        if (DTYPES[i].code == code) return &DTYPES[i];
    return NULL;
}

/* Java's Long.parseLong for ASCII input: an optional sign, at least one digit, nothing else, in range.
 * Answers 0 and sets *out, or -1. */
static int parse_long(const char *p, size_t n, long long *out) {
    size_t i = 0;
    int neg = 0;
    if (n > 0 && (p[0] == '+' || p[0] == '-')) {
        neg = p[0] == '-';
        i = 1;
    }
    if (i == n) return -1;
    unsigned long long v = 0, limit = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (limit - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = neg ? (long long)(0 - v) : (long long)v;
    return 0;
}

static int arg_long(RedisModuleString *arg, long long *out) {
    size_t n;
    const char *p = RM.StringPtrLen(arg, &n);
    return parse_long(p, n, out);
}

/* Java's Double.parseDouble for the forms people write: leading and trailing control characters and spaces
 * ignored; decimal notation, or hexadecimal with its binary exponent (0x1.8p1); an optional f/F/d/D suffix;
 * "NaN" and "Infinity" with an optional sign. Answers 0 and sets *out, or -1. */
static int parse_double(const char *p, size_t n, double *out) {
    char buf[128];
    while (n > 0 && (unsigned char)p[0] <= ' ') p++, n--;
    while (n > 0 && (unsigned char)p[n - 1] <= ' ') n--;
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    const char *body = buf + (buf[0] == '+' || buf[0] == '-');
    if (strcmp(body, "NaN") == 0) {
        *out = NAN;
        return 0;
    }
    if (strcmp(body, "Infinity") == 0) {
        *out = buf[0] == '-' ? -INFINITY : INFINITY;
        return 0;
    }
    int hex = body[0] == '0' && (body[1] == 'x' || body[1] == 'X');
    const char *exp = hex ? strpbrk(body, "pP") : NULL;
    if (hex && exp == NULL) return -1;
    /* The type suffix: after the exponent of a hexadecimal number (before it, f and d are digits). */
    if (strchr("fFdD", buf[n - 1]) && (!hex || buf + n - 1 > exp)) buf[--n] = '\0';
    for (const char *c = body; *c; c++) {
        int ok = (*c >= '0' && *c <= '9') || *c == '.' || *c == '+' || *c == '-' ||
                 (hex ? (*c >= 'a' && *c <= 'f') || (*c >= 'A' && *c <= 'F') || *c == 'x' || *c == 'X' ||
                            *c == 'p' || *c == 'P'
                      : *c == 'e' || *c == 'E');
        if (!ok) return -1; /* so strtod never reads "inf", "nan" or a locale's own forms */
    }
    char *end;
    double v = strtod(buf, &end);
    if (end == buf || end != buf + n) return -1;
    *out = v; /* past the range: +-inf or 0, as in Java */
    return 0;
}

static int reply_wrong_arity(RedisModuleCtx *ctx, RedisModuleString **argv) {
    size_t n;
    const char *name = RM.StringPtrLen(argv[0], &n);
    char msg[160];
    snprintf(msg, sizeof msg, "ERR wrong number of arguments for '%.*s' command", (int)(n > 100 ? 100 : n), name);
    return RM.ReplyWithError(ctx, msg);
}

/* ------------------------------------------------------------------ AI.TENSORSET */

/* Parses one VALUES argument of dtype t into dst (little-endian, t->size bytes). */
static int put_value(const struct dtype *t, RedisModuleString *arg, char *dst) {
    size_t n;
    const char *p = RM.StringPtrLen(arg, &n);
    if (t->code == 1 || t->code == 2) {
        double d;
        if (parse_double(p, n, &d) != 0) return -1;
        if (t->code == 1) {
            float f = (float)d;
            memcpy(dst, &f, 4);
        } else {
            memcpy(dst, &d, 8);
        }
        return 0;
    }
    long long v;
    if (parse_long(p, n, &v) != 0) return -1;
    /* Narrowed as Java's casts do: the low bytes of the two's complement value. */
    uint64_t u = (uint64_t)v;
    memcpy(dst, &u, t->size);
    return 0;
}

/* AI.TENSORSET key dtype d0 d1 ... [BLOB b | VALUES v...]: the front's parseTensor, check for check. */
static int cmd_tensorset(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 4) return reply_wrong_arity(ctx, argv);
    const struct dtype *t = dtype_of_name(argv[2]);
    if (t == NULL) return RM.ReplyWithError(ctx, "ERR invalid data type");

    long long dims[MAX_DIMS + 1];
    int ndims = 0;
    long long len = 1;
    int data_at = -1; /* index of the BLOB or VALUES keyword */
    for (int i = 3; i < argc; i++) {
        if (arg_is(argv[i], "BLOB")) {
            if (argc - 1 - i != 1)
                return RM.ReplyWithError(ctx, "ERR a single binary string should come after the BLOB argument in "
                                              "'AI.TENSORSET' command");
            size_t blen;
            RM.StringPtrLen(argv[i + 1], &blen);
            if ((long long)blen != len * t->size)
                return RM.ReplyWithError(ctx, "ERR data length does not match tensor shape and type");
            data_at = i;
            break;
        }
        if (arg_is(argv[i], "VALUES")) {
            if ((long long)(argc - 1 - i) != len)
                return RM.ReplyWithError(ctx, "ERR wrong number of values was given in 'AI.TENSORSET' command");
            data_at = i;
            break;
        }
        long long d;
        if (arg_long(argv[i], &d) != 0 || d <= 0 || len > LLONG_MAX / d)
            return RM.ReplyWithError(ctx, "ERR invalid or negative value found in tensor shape");
        len *= d;
        if (len * t->size > MAX_DATA) {
            char msg[96];
            snprintf(msg, sizeof msg, "ERR tensor of %lld elements is larger than 2 GiB", len);
            return RM.ReplyWithError(ctx, msg);
        }
        /* More than 255 dimensions is refused below, after the data checks, as the front does. */
        if (ndims <= MAX_DIMS) dims[ndims] = d;
        ndims++;
    }
    int values = data_at >= 0 && arg_is(argv[data_at], "VALUES");
    if (values) {
        /* Every value is checked before anything is written (and before the dimension count, as the front does). */
        char scratch[8];
        for (long long k = 0; k < len; k++)
            if (put_value(t, argv[data_at + 1 + k], scratch) != 0) return RM.ReplyWithError(ctx, "ERR invalid value");
    }
    if (ndims > MAX_DIMS) return RM.ReplyWithError(ctx, "ERR tensors of more than 255 dimensions are not supported");
    size_t dlen = (size_t)(len * t->size);
    size_t total = HEADER + 8 * (size_t)ndims + dlen;

    RedisModuleKey *key = RM.OpenKey(ctx, argv[1], RM_WRITE);
    if (key == NULL) return RM.ReplyWithError(ctx, "ERR could not open the tensor key");
    /* Where the value goes: over the key's old value when that is a string of the same size (a simulation putting
     * the same tensor every step: no allocation, one copy), otherwise a new string built on the stack or the heap. */
    char stack[STACK_VALUE];
    char *buf;
    int in_place = RM.KeyType(key) == RM_KEYTYPE_STRING && RM.ValueLength(key) == total;
    if (in_place) {
        size_t n;
        buf = RM.StringDMA(key, &n, RM_WRITE);
        if (buf == NULL || n != total) in_place = 0;
    }
    if (!in_place) buf = total <= sizeof stack ? stack : RM.Alloc(total);
    char *data = buf + HEADER + 8 * ndims;
    if (values)
        for (long long k = 0; k < len; k++) put_value(t, argv[data_at + 1 + k], data + k * t->size); /* checked above */
    memcpy(buf, "SSAT", 4);
    buf[4] = 1;
    buf[5] = (char)t->code;
    buf[6] = (char)ndims;
    buf[7] = 0;
    for (int k = 0; k < ndims; k++) memcpy(buf + HEADER + 8 * k, &dims[k], 8);
    if (data_at < 0) {
        memset(data, 0, dlen); /* no data: a tensor of zeros, as RedisAI creates */
    } else if (!values) {
        const char *blob = RM.StringPtrLen(argv[data_at + 1], &dlen);
        memcpy(data, blob, dlen);
    }

    int rc = RM_OK;
    if (in_place) {
        /* As SET: the new value has no time to live. */
        if (RM.GetExpire(key) != RM_NO_EXPIRE) RM.SetExpire(key, RM_NO_EXPIRE);
    } else {
        RedisModuleString *value = RM.CreateString(ctx, buf, total);
        if (buf != stack) RM.Free(buf);
        rc = RM.StringSet(key, value); /* drops the old value, of any type, and its time to live */
        RM.FreeString(ctx, value);
    }
    RM.CloseKey(key); /* signals the key as modified (WATCH) */
    if (rc != RM_OK) return RM.ReplyWithError(ctx, "ERR could not store the tensor");
    /* Replicas and the AOF get this command as it came: it is deterministic, and a server replaying it has the
     * module (the orchestrator's config loads it). An AOF rewrite or an RDB holds the plain string. */
    RM.ReplicateVerbatim(ctx);
    RM.NotifyKeyspaceEvent(ctx, RM_NOTIFY_STRING, "set", argv[1]);
    return RM.ReplyWithSimpleString(ctx, "OK");
}

/* ------------------------------------------------------------------ AI.TENSORGET */

/* The tensor in a stored string, as TensorCodec.decode: 0 if it is one. */
static int decode(const char *v, size_t n, const struct dtype **t, int *ndims, const char **data, size_t *dlen) {
    if (n < HEADER || memcmp(v, "SSAT", 4) != 0 || v[4] != 1) return -1;
    *t = dtype_of_code((unsigned char)v[5]);
    *ndims = (unsigned char)v[6];
    if (*t == NULL || n < HEADER + 8 * (size_t)*ndims) return -1;
    long long elems = 1;
    for (int k = 0; k < *ndims; k++) {
        long long d;
        memcpy(&d, v + HEADER + 8 * k, 8);
        if (d < 1 || elems > LLONG_MAX / d) return -1;
        elems *= d;
    }
    *data = v + HEADER + 8 * *ndims;
    *dlen = n - HEADER - 8 * *ndims;
    if (elems > LLONG_MAX / (*t)->size || (unsigned long long)(elems * (*t)->size) != *dlen) return -1;
    return 0;
}

/* C's %.17g, as Redis formats doubles in RESP2 and as the front writes VALUES of FLOAT and DOUBLE tensors. */
static int reply_double(RedisModuleCtx *ctx, double d) {
    char s[40];
    if (isnan(d)) return RM.ReplyWithStringBuffer(ctx, "nan", 3);
    int n = snprintf(s, sizeof s, "%.17g", d);
    return RM.ReplyWithStringBuffer(ctx, s, (size_t)n);
}

static void reply_values(RedisModuleCtx *ctx, const struct dtype *t, const char *data, size_t dlen) {
    size_t n = dlen / t->size;
    RM.ReplyWithArray(ctx, (long)n);
    for (size_t k = 0; k < n; k++) {
        const char *e = data + k * t->size;
        switch (t->code) {
        case 1: { float f; memcpy(&f, e, 4); reply_double(ctx, f); break; }
        case 2: { double d; memcpy(&d, e, 8); reply_double(ctx, d); break; }
        case 3: RM.ReplyWithLongLong(ctx, (int8_t)e[0]); break;
        case 4: { int16_t v; memcpy(&v, e, 2); RM.ReplyWithLongLong(ctx, v); break; }
        case 5: { int32_t v; memcpy(&v, e, 4); RM.ReplyWithLongLong(ctx, v); break; }
        case 6: { int64_t v; memcpy(&v, e, 8); RM.ReplyWithLongLong(ctx, v); break; }
        case 7: RM.ReplyWithLongLong(ctx, (uint8_t)e[0]); break;
        case 8: { uint16_t v; memcpy(&v, e, 2); RM.ReplyWithLongLong(ctx, v); break; }
        }
    }
}

/* AI.TENSORGET key [META] [BLOB | VALUES]: the front's tensorGet, check for check. */
static int cmd_tensorget(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 2 || argc > 4) return reply_wrong_arity(ctx, argv);
    RedisModuleKey *key = RM.OpenKey(ctx, argv[1], RM_READ);
    int type = RM.KeyType(key);
    if (type != RM_KEYTYPE_STRING) {
        RM.CloseKey(key);
        return RM.ReplyWithError(ctx, type == RM_KEYTYPE_EMPTY ? TENSOR_EMPTY : WRONGTYPE);
    }
    size_t n, dlen;
    const char *v = RM.StringDMA(key, &n, RM_READ);
    const struct dtype *t;
    int ndims;
    const char *data;
    if (v == NULL || decode(v, n, &t, &ndims, &data, &dlen) != 0) {
        RM.CloseKey(key);
        return RM.ReplyWithError(ctx, WRONGTYPE);
    }
    int meta = argc == 2, blob = argc == 2, values = 0;
    for (int i = 2; i < argc; i++) {
        if (arg_is(argv[i], "BLOB")) blob = 1;
        else if (arg_is(argv[i], "VALUES")) values = 1;
        else if (arg_is(argv[i], "META")) meta = 1;
        else {
            RM.CloseKey(key);
            return RM.ReplyWithError(ctx, "ERR unsupported data format");
        }
    }
    if (blob && values) {
        RM.CloseKey(key);
        return RM.ReplyWithError(ctx, "ERR both BLOB and VALUES specified");
    }
    /* RedisAI's reply: META alone is 4 elements, META with data 6; data alone is the bare value. */
    if (meta) {
        RM.ReplyWithArray(ctx, blob || values ? 6 : 4);
        RM.ReplyWithCString(ctx, "dtype");
        RM.ReplyWithCString(ctx, t->name);
        RM.ReplyWithCString(ctx, "shape");
        RM.ReplyWithArray(ctx, ndims);
        for (int k = 0; k < ndims; k++) {
            long long d;
            memcpy(&d, v + HEADER + 8 * k, 8);
            RM.ReplyWithLongLong(ctx, d);
        }
    }
    if (blob) {
        if (meta) RM.ReplyWithCString(ctx, "blob");
        RM.ReplyWithStringBuffer(ctx, data, dlen);
    } else if (values) {
        if (meta) RM.ReplyWithCString(ctx, "values");
        reply_values(ctx, t, data, dlen);
    }
    RM.CloseKey(key);
    return RM_OK;
}

/* ------------------------------------------------------------------ model and script commands */

/* Key positions of the commands whose keys are not all in one fixed place. Each reports argv[1] (the model
 * or script key) and the tensor keys its syntax names, so that Redis routes, redirects (MOVED, ASK,
 * CROSSSLOT) and ACL-checks all of them. A malformed command reports the keys it can; the command itself then
 * answers the syntax error. */
static void report_counted(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, int *i) {
    long long count;
    if (*i + 1 >= argc || arg_long(argv[*i + 1], &count) != 0 || count < 0) {
        *i = argc;
        return;
    }
    int k = *i + 2;
    for (long long c = 0; c < count && k < argc; c++, k++) RM.KeyAtPos(ctx, k);
    *i = k;
}

/* AI.MODELEXECUTE key INPUTS n i... OUTPUTS m o... [TIMEOUT ms] */
static void keys_modelexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    RM.KeyAtPos(ctx, 1);
    int i = 2;
    while (i < argc) {
        if (arg_is(argv[i], "INPUTS") || arg_is(argv[i], "OUTPUTS")) report_counted(ctx, argv, argc, &i);
        else i++;
    }
}

/* AI.SCRIPTEXECUTE key fn [KEYS n k...] [INPUTS n i...] [ARGS n a...] [OUTPUTS n o...] [TIMEOUT ms] */
static void keys_scriptexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    RM.KeyAtPos(ctx, 1);
    int i = 3;
    while (i < argc) {
        if (arg_is(argv[i], "KEYS") || arg_is(argv[i], "INPUTS") || arg_is(argv[i], "OUTPUTS")) {
            report_counted(ctx, argv, argc, &i);
        } else if (arg_is(argv[i], "ARGS")) {
            long long count;
            if (i + 1 >= argc || arg_long(argv[i + 1], &count) != 0 || count < 0) break;
            i = count > argc ? argc : i + 2 + (int)count;
        } else {
            i++;
        }
    }
}

/* AI.SCRIPTRUN key fn INPUTS i... [$ i...] OUTPUTS o... [TIMEOUT ms] (the deprecated form, no counts) */
static void keys_scriptrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    RM.KeyAtPos(ctx, 1);
    int in = 0;
    for (int i = 3; i < argc; i++) {
        if (arg_is(argv[i], "INPUTS") || arg_is(argv[i], "OUTPUTS")) in = 1;
        else if (arg_is(argv[i], "TIMEOUT")) { in = 0; i++; }
        else if (arg_is(argv[i], "$")) continue;
        else if (in) RM.KeyAtPos(ctx, i);
    }
}

static int not_connected(RedisModuleCtx *ctx) {
    return RM.ReplyWithError(ctx, NO_MODEL_SERVER);
}

static int cmd_model_or_script(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    return not_connected(ctx);
}

static int cmd_modelexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (RM.IsKeysPositionRequest(ctx)) {
        keys_modelexecute(ctx, argv, argc);
        return RM_OK;
    }
    return not_connected(ctx);
}

static int cmd_scriptexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (RM.IsKeysPositionRequest(ctx)) {
        keys_scriptexecute(ctx, argv, argc);
        return RM_OK;
    }
    return not_connected(ctx);
}

static int cmd_scriptrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (RM.IsKeysPositionRequest(ctx)) {
        keys_scriptrun(ctx, argv, argc);
        return RM_OK;
    }
    return not_connected(ctx);
}

/* ------------------------------------------------------------------ loading */

struct api_entry {
    const char *name;
    void **slot;
};

#define API(f) {"RedisModule_" #f, (void **)&RM.f}

static int load_api(RedisModuleCtx *ctx) {
    /* The first word of the context is the server's GetApi function. */
    void *first = ((void **)ctx)[0];
    int (*get_api)(const char *, void *) = (int (*)(const char *, void *))(uintptr_t)first;
    const struct api_entry table[] = {
        API(SetModuleAttribs), API(IsModuleNameBusy), API(CreateCommand), API(Log),
        API(StringPtrLen), API(CreateString), API(FreeString),
        API(OpenKey), API(CloseKey), API(KeyType), API(ValueLength), API(StringSet), API(StringDMA),
        API(GetExpire), API(SetExpire),
        API(ReplyWithError), API(ReplyWithSimpleString), API(ReplyWithArray), API(ReplyWithStringBuffer),
        API(ReplyWithCString), API(ReplyWithLongLong),
        API(ReplicateVerbatim), API(NotifyKeyspaceEvent), API(IsKeysPositionRequest), API(KeyAtPos),
        API(Alloc), API(Free),
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (get_api(table[i].name, table[i].slot) != RM_OK && table[i].slot != (void **)&RM.IsModuleNameBusy) {
            /* Nothing else can report yet: the server logs that the module failed to load. */
            fprintf(stderr, "smartsim-ai: this server has no %s (the module needs Redis 6.0 or later)\n",
                    table[i].name);
            return RM_ERR;
        }
    }
    return RM_OK;
}

struct command {
    const char *name;
    RMCommandFn fn;
    const char *flags;
    int first, last, step;
};

/* Every AI command SmartRedis sends (shared/notes/redisai.md, section 1), and the newer forms the front
 * answers. All keyed ones have their model, script or tensor key at argv[1]; the run commands also report
 * their input and output keys through the getkeys API. */
static const struct command COMMANDS[] = {
    {"AI.TENSORSET", cmd_tensorset, "write deny-oom", 1, 1, 1},
    {"AI.TENSORGET", cmd_tensorget, "readonly", 1, 1, 1},
    {"AI.MODELSTORE", cmd_model_or_script, "write deny-oom", 1, 1, 1},
    {"AI.MODELGET", cmd_model_or_script, "readonly", 1, 1, 1},
    {"AI.MODELDEL", cmd_model_or_script, "write", 1, 1, 1},
    {"AI.MODELEXECUTE", cmd_modelexecute, "write deny-oom getkeys-api", 1, 1, 1},
    {"AI.SCRIPTSET", cmd_model_or_script, "write deny-oom", 1, 1, 1},
    {"AI.SCRIPTSTORE", cmd_model_or_script, "write deny-oom", 1, 1, 1},
    {"AI.SCRIPTGET", cmd_model_or_script, "readonly", 1, 1, 1},
    {"AI.SCRIPTDEL", cmd_model_or_script, "write", 1, 1, 1},
    {"AI.SCRIPTRUN", cmd_scriptrun, "write deny-oom getkeys-api", 1, 1, 1},
    {"AI.SCRIPTEXECUTE", cmd_scriptexecute, "write deny-oom getkeys-api", 1, 1, 1},
    /* AI.INFO [key [RESETSTAT]]: keyed when a key is given (Redis finds none past argc). */
    {"AI.INFO", cmd_model_or_script, "readonly", 1, 1, 1},
    {"AI.CONFIG", cmd_model_or_script, "readonly", 0, 0, 0},
};

__attribute__((visibility("default"))) int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    if (load_api(ctx) != RM_OK) return RM_ERR;
    if (RM.IsModuleNameBusy != NULL && RM.IsModuleNameBusy("ai")) {
        RM.Log(ctx, "warning", "a module named 'ai' (RedisAI?) is already loaded");
        return RM_ERR;
    }
    RM.SetModuleAttribs(ctx, "ai", 1, RM_APIVER_1);
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++) {
        const struct command *c = &COMMANDS[i];
        if (RM.CreateCommand(ctx, c->name, c->fn, c->flags, c->first, c->last, c->step) != RM_OK) {
            RM.Log(ctx, "warning", "cannot register %s (is another module serving it?)", c->name);
            return RM_ERR;
        }
    }
    RM.Log(ctx, "notice", "smartsim-ai: %d AI commands registered; tensors served here, models and scripts "
                          "answer '%s' until the model server is wired", (int)(sizeof COMMANDS / sizeof COMMANDS[0]),
           NO_MODEL_SERVER);
    return RM_OK;
}
