/*
 * smartsim-ai: the AI.* commands that SmartRedis sends, inside redis-server (see docs/ai.md, "Serving inside Redis: the AI module").
 *
 * Registers every AI command SmartRedis 0.6.1 sends (shared/notes/redisai.md) with its key positions, so that
 * Redis itself answers MOVED/ASK/CROSSSLOT and applies ACLs to them. AI.TENSORSET and AI.TENSORGET run here,
 * on the event loop, with the argument rules, replies and error texts of the Java front (ai-server,
 * AiCommands), and store tensors in its documented layout (TensorCodec), layout 2, the description after the data:
 *
 *   offset 0         the element bytes, C order, as sent with BLOB (d bytes)
 *          d         n x int64 little-endian dimensions
 *          d + 8n    "SSAT", 2 (layout version), dtype code, number of dimensions n, 0
 *
 * so that a large BLOB argument becomes the stored value itself, with the 8 + 8n bytes appended, as SET keeps
 * its argument (no copy of the data). Layout 1, written before (offset 0 "SSAT", 1, dtype, n, 0; then the
 * dimensions; then the data), is still read everywhere, so old RDB and AOF files and older replicas' data load.
 * A tensor is a plain string value, so EXISTS, DEL, RENAME, EXPIRE, RDB and AOF treat it like any other key.
 * AI.TENSORSET is replicated and written to the AOF verbatim, or as SET of the stored value when the argument
 * became the value (replicas and an AOF replay load the module too).
 *
 * AI.MODELSTORE, AI.MODELEXECUTE, AI.MODELGET, AI.MODELDEL and AI.CONFIG run here too; model loads and runs go to the
 * JVM model server (ai-server's ModelServerMain) over a Unix socket, through the blocked-client API (see "the model
 * server link" below). Module arguments: SOCKET <path> (the model server's socket), BACKENDS ONNX,TORCH,... (the
 * backends it was started with). Scripts, AI.INFO and AI._LIST (the keys with counters, for telemetry) run here too.
 *
 * Built with gcc -O2 -fPIC -shared -Wall -Wextra -Werror by ai-module's pom (src/main/c/build.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "module_api.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the tensor layout stores little-endian dimensions; this source assumes a little-endian host"
#endif

static struct rm_api RM;

#define TENSOR_EMPTY "ERR tensor key is empty or in a different shard"
#define WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"

#define HEADER 8  /* layout 1: the header before the dimensions and the data */
#define TRAILER 8 /* layout 2: the same 8 bytes after the data and the dimensions */
#define MAX_DIMS 255
/* The front's limit (AiCommands.parseTensor): the element bytes of one tensor stay below 2 GiB. */
#define MAX_DATA ((long long)INT_MAX - 64)
/* Tensors up to this size are built on the stack before they are copied into their Redis string. */
#define STACK_VALUE 4096
/* A BLOB of at least this size becomes the stored value itself (its description appended): the size from which
 * Redis reads a bulk argument straight into a buffer of its own (PROTO_MBULK_BIG_ARG), with room to spare. */
#define ZERO_COPY_BLOB (32 * 1024)

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

/* 1 if this command's arguments are the calling connection's own (a client's command, also inside MULTI, or the
 * master's stream): Redis made them for this call alone, so one may become a stored value. Not for a script or a
 * module's RedisModule_Call, whose arguments may be strings their caller still holds (Redis stops with "Module API
 * called with a shared object" when such a string is changed): their clients are not connected, so Redis does not
 * find them by id. */
static int own_argument(RedisModuleCtx *ctx) {
    if (RM.GetContextFlags(ctx) & RM_CTX_FLAGS_LUA) return 0;
    unsigned long long id = RM.GetClientId(ctx);
    return id != 0 && RM.GetClientInfoById(NULL, id) == RM_OK;
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
    size_t total = dlen + 8 * (size_t)ndims + TRAILER;
    char desc[8 * MAX_DIMS + TRAILER]; /* the dimensions and the trailer, as they follow the data */
    for (int k = 0; k < ndims; k++) memcpy(desc + 8 * k, &dims[k], 8);
    memcpy(desc + 8 * ndims, "SSAT", 4);
    desc[8 * ndims + 4] = 2;
    desc[8 * ndims + 5] = (char)t->code;
    desc[8 * ndims + 6] = (char)ndims;
    desc[8 * ndims + 7] = 0;
    size_t desclen = 8 * (size_t)ndims + TRAILER;

    RedisModuleKey *key = RM.OpenKey(ctx, argv[1], RM_WRITE);
    if (key == NULL) return RM.ReplyWithError(ctx, "ERR could not open the tensor key");
    if (data_at >= 0 && !values && dlen >= ZERO_COPY_BLOB && own_argument(ctx)) {
        /* The BLOB argument becomes the value, as SET keeps its argument: its description is appended (Redis read
         * an argument this large into a buffer of its own, usually with room for it) and the key takes the string.
         * The argument no longer reads as it came, so replicas and the AOF get SET of the stored value. */
        RedisModuleString *value = argv[data_at + 1];
        int rc = RM.StringAppendBuffer(ctx, value, desc, desclen);
        if (rc == RM_OK) rc = RM.StringSet(key, value); /* drops the old value, of any type, and its time to live */
        RM.CloseKey(key);                               /* signals the key as modified (WATCH) */
        if (rc != RM_OK) return RM.ReplyWithError(ctx, "ERR could not store the tensor");
        RM.Replicate(ctx, "SET", "ss", argv[1], value);
        RM.NotifyKeyspaceEvent(ctx, RM_NOTIFY_STRING, "set", argv[1]);
        return RM.ReplyWithSimpleString(ctx, "OK");
    }
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
    char *data = buf;
    if (values)
        for (long long k = 0; k < len; k++) put_value(t, argv[data_at + 1 + k], data + k * t->size); /* checked above */
    memcpy(buf + dlen, desc, desclen);
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

/* 0 if the n bytes at dims are whole dimensions whose product times the dtype's size is dlen. */
static int dims_match(const char *dims, int ndims, const struct dtype *t, size_t dlen) {
    long long elems = 1;
    for (int k = 0; k < ndims; k++) {
        long long d;
        memcpy(&d, dims + 8 * k, 8);
        if (d < 1 || elems > LLONG_MAX / d) return -1;
        elems *= d;
    }
    if (elems > LLONG_MAX / t->size || (unsigned long long)(elems * t->size) != dlen) return -1;
    return 0;
}

/* The tensor in a stored string, as TensorCodec.decode: 0 if it is one, with its dtype, its dimensions (ndims
 * int64 little-endian at *dims), and its data. Layout 2 (the description at the end) is tried first, then
 * layout 1 (at the start). */
static int decode(const char *v, size_t n, const struct dtype **t, int *ndims, const char **dims, const char **data,
                  size_t *dlen) {
    if (n >= TRAILER && memcmp(v + n - TRAILER, "SSAT", 4) == 0 && v[n - 4] == 2) {
        const char *tr = v + n - TRAILER;
        *t = dtype_of_code((unsigned char)tr[5]);
        *ndims = (unsigned char)tr[6];
        if (*t != NULL && n >= TRAILER + 8 * (size_t)*ndims) {
            *dlen = n - TRAILER - 8 * (size_t)*ndims;
            *dims = v + *dlen;
            *data = v;
            if (dims_match(*dims, *ndims, *t, *dlen) == 0) return 0;
        }
    }
    if (n < HEADER || memcmp(v, "SSAT", 4) != 0 || v[4] != 1) return -1;
    *t = dtype_of_code((unsigned char)v[5]);
    *ndims = (unsigned char)v[6];
    if (*t == NULL || n < HEADER + 8 * (size_t)*ndims) return -1;
    *dims = v + HEADER;
    *data = v + HEADER + 8 * *ndims;
    *dlen = n - HEADER - 8 * *ndims;
    return dims_match(*dims, *ndims, *t, *dlen);
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
    const char *dims, *data;
    if (v == NULL || decode(v, n, &t, &ndims, &dims, &data, &dlen) != 0) {
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
            memcpy(&d, dims + 8 * k, 8);
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

/* ------------------------------------------------------------------ the model server link
 *
 * Models are stored in the keyspace, one hash per model key, in the front's documented layout (ai-server's
 * ModelRecord): so RDB, AOF, replicas and --resume keep them as data, and either serving design reads what the other
 * wrote. The loaded copies live in the JVM model server, keyed by the record's random id (made at each AI.MODELSTORE).
 * The module talks to it over a Unix socket (docs/ai.md, "The module <-> model server protocol") from its worker
 * threads (WORKERS, 4 by default, each with its own connection): a command blocks its client
 * (RedisModule_BlockClient), queues a job, and the event loop goes on; a worker
 * sends the request, waits for the answer, and unblocks the client; the reply callback then runs on the main thread
 * and writes the outputs to the keyspace. A model the model server does not know (it restarted, or this shard became
 * master by failover) is pushed to it from the stored hash, read by the worker under the server's lock. */

#define MODEL_EMPTY "ERR model key is empty"
#define RAI_VERSION "1.2.7" /* the RedisAI version the module presents itself as in AI.INFO, as the front does */
#define MODEL_MARK "smartsim.ai/model/1"
#define DEFAULT_CHUNK_SIZE (511LL * 1024 * 1024)

static char *server_socket;                 /* SOCKET given to loadmodule, or NULL */
static char loaded_backends[64] = "";      /* BACKENDS given to loadmodule, upper case, ",ONNX,TORCH," */
static long long chunk_size = DEFAULT_CHUNK_SIZE;
static char backends_path[512] = "";
static unsigned long long id_counter;
static unsigned long long id_seed;

static const char *KNOWN_BACKENDS[] = {"TF", "TFLITE", "TORCH", "ONNX"};

struct buf {
    char *p;
    size_t len, cap;
};

static void buf_need(struct buf *b, size_t more) {
    if (b->len + more <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more) cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL) abort();
    b->p = p;
    b->cap = cap;
}
static void buf_put(struct buf *b, const void *p, size_t n) {
    buf_need(b, n);
    memcpy(b->p + b->len, p, n);
    b->len += n;
}
static void buf_u8(struct buf *b, unsigned char v) { buf_put(b, &v, 1); }
static void buf_u32(struct buf *b, uint32_t v) { buf_put(b, &v, 4); }
static void buf_bytes(struct buf *b, const void *p, size_t n) {
    buf_u32(b, (uint32_t)n);
    buf_put(b, p, n);
}
/* Starts a frame: the 4-byte length is filled by frame_end. */
static void frame_begin(struct buf *b, unsigned char op) {
    b->len = 0;
    buf_u32(b, 0);
    buf_u8(b, op);
}
static void frame_end(struct buf *b) {
    uint32_t n = (uint32_t)(b->len - 4);
    memcpy(b->p, &n, 4);
}

/* A reader over a reply body. */
struct rd {
    const char *p;
    size_t left;
    int bad;
};
static uint32_t rd_u32(struct rd *r) {
    uint32_t v = 0;
    if (r->left < 4) { r->bad = 1; return 0; }
    memcpy(&v, r->p, 4);
    r->p += 4;
    r->left -= 4;
    return v;
}
static const char *rd_bytes(struct rd *r, size_t *n) {
    *n = rd_u32(r);
    if (r->bad || *n > r->left) { r->bad = 1; return NULL; }
    const char *p = r->p;
    r->p += *n;
    r->left -= *n;
    return p;
}

enum { JOB_STORE = 'L', JOB_RUN = 'R', JOB_DROP = 'D', JOB_SCRIPT_STORE = 'S', JOB_SCRIPT_RUN = 'X', JOB_VERSIONS = 'V' };

struct job {
    struct job *next;
    int kind;
    RedisModuleBlockedClient *bc; /* NULL for a DROP, which nobody waits for */
    struct buf req;               /* the request frame */
    char *key;                    /* the model key */
    size_t keylen;
    char id[40];
    /* STORE: the hash fields to write once the model server loaded the model */
    char backend[8], device[16];
    char *tag;
    size_t taglen;
    long long batch, minbatch, minbatchtimeout;
    struct buf innames, outnames; /* ModelRecord's encoding: 4-byte length, bytes */
    size_t blob_at, blob_len;     /* where the blob is inside req */
    /* RUN: the output keys, and the samples of the run (the first input's first dimension) for AI.INFO */
    long long samples;
    int nout;
    char **okeys;
    size_t *okeylens;
    /* the answer */
    char *err;                    /* the error reply, when the model server could not be asked */
    char *body;                   /* the reply body (status byte first) */
    size_t bodylen;
};

static void job_free(struct job *j) {
    free(j->req.p);
    free(j->key);
    free(j->tag);
    free(j->innames.p);
    free(j->outnames.p);
    for (int k = 0; k < j->nout; k++) free(j->okeys[k]);
    free(j->okeys);
    free(j->okeylens);
    free(j->err);
    free(j->body);
    free(j);
}

static void free_privdata(RedisModuleCtx *ctx, void *p) {
    (void)ctx;
    if (p) job_free(p);
}

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static struct job *queue_head, *queue_tail;
/*
 * How a request reaches the model server with one thread wake-up only: the event loop writes the request itself on
 * an idle worker's connection (a non-blocking send of a frame of at most DIRECT_MAX bytes, which an idle connection's
 * empty socket buffer takes whole) and hands the job to that worker, which sleeps in poll() on its connection and
 * wakes when the answer arrives. Before, the event loop queued the job and signalled a condition: the worker woke,
 * wrote, and slept again until the answer (two wake-ups of the worker per call). Larger requests, workers not yet
 * connected, and no idle worker take the queue, and an idle worker is woken through its eventfd.
 *
 * The idle workers form a stack, the most recently idle first, so that calls one at a time keep to one warm thread
 * and one warm model-server connection (a shared condition woke the longest waiter: with 4 workers, calls went round
 * all four).
 *
 * A worker slot's fields are guarded by queue_lock. The event loop reads fd only while the worker is on the idle
 * stack (it then does not touch its connection); "claimed" marks a worker the event loop took off the stack to
 * write on its connection, until it publishes the job in "sent".
 */
#define DIRECT_MAX (64 * 1024)
struct worker_slot {
    struct worker_slot *next_idle;
    int idle;          /* on the idle stack */
    int claimed;       /* the event loop is writing a request on fd; "sent" follows */
    int waiting_sent;  /* the worker waits on wake for "sent" (its answer arrived first) */
    int fd;            /* its connection to the model server, -1 when not connected */
    int wake;          /* eventfd: a job queued for it, or "sent" published while it waited */
    struct job *sent;  /* a job whose request the event loop wrote on fd: the worker reads the answer */
};
static struct worker_slot *idle_top;
/* Jobs in the queue, and workers that have their answer and are about to look at the queue again (between reading
 * the answer and their next look): a job those can take waits for one of them, no thread is woken for it. A client
 * that sends its next call as soon as it has the reply is then served by the same, still running, worker. */
static int queue_len, returning;
/* Each worker thread has its own connection to the model server, so that a long run holds one worker only. */
static __thread int server_fd = -1;
#define DEFAULT_WORKERS 4
#define MAX_WORKERS 64
static long long workers = DEFAULT_WORKERS;

static void wake_worker(struct worker_slot *w) {
    uint64_t one = 1;
    while (write(w->wake, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

/* Called on the event loop: the job's request goes to the model server (see "How a request reaches..." above). */
static void enqueue(struct job *j) {
    pthread_mutex_lock(&queue_lock);
    struct worker_slot *w = returning > queue_len ? NULL : idle_top; /* NULL: a worker takes it from the queue */
    if (w != NULL) {
        idle_top = w->next_idle;
        w->idle = 0;
    }
    if (w != NULL && w->fd >= 0 && j->req.len <= DIRECT_MAX) {
        w->claimed = 1;
        int fd = w->fd;
        pthread_mutex_unlock(&queue_lock);
        size_t done = 0;
        while (done < j->req.len) {
            ssize_t n = send(fd, j->req.p + done, j->req.len - done, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            done += (size_t)n;
        }
        /* Not sent whole (the model server gone, or a full buffer): the worker's read of this connection ends at
         * once, and it sends the request again on a new connection, as after any broken connection. */
        if (done < j->req.len) shutdown(fd, SHUT_RDWR);
        pthread_mutex_lock(&queue_lock);
        w->claimed = 0;
        w->sent = j;
        int waiting = w->waiting_sent;
        pthread_mutex_unlock(&queue_lock);
        if (waiting) wake_worker(w);
        return;
    }
    j->next = NULL;
    if (queue_tail) queue_tail->next = j;
    else queue_head = j;
    queue_tail = j;
    queue_len++;
    pthread_mutex_unlock(&queue_lock);
    if (w != NULL) wake_worker(w);
}

static char *errorf(const char *fmt, const char *a, const char *b) {
    char *m = malloc(strlen(fmt) + strlen(a) + strlen(b) + 1);
    if (m == NULL) abort();
    sprintf(m, fmt, a, b);
    return m;
}

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, char *p, size_t n) {
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r == 0) errno = ECONNRESET;
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int server_connect(void) {
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    if (strlen(server_socket) >= sizeof a.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(a.sun_path, server_socket);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Sends one frame and reads the answer's body into *body. 0, or -1 with *err set (the reply naming the model
 * server). A connection that breaks is opened again once: the model server may have restarted since the last call. */
static int roundtrip(const struct buf *req, char **body, size_t *bodylen, char **err) {
    for (int attempt = 0; attempt < 2; attempt++) {
        int fresh = 0;
        if (server_fd < 0) {
            server_fd = server_connect();
            if (server_fd < 0) {
                *err = errorf("ERR model server not connected (socket %s: %s)", server_socket, strerror(errno));
                return -1;
            }
            fresh = 1;
        }
        uint32_t n;
        if (write_all(server_fd, req->p, req->len) == 0 && read_all(server_fd, (char *)&n, 4) == 0 && n >= 1) {
            char *b = malloc(n);
            if (b == NULL) abort();
            if (read_all(server_fd, b, n) == 0) {
                *body = b;
                *bodylen = n;
                return 0;
            }
            free(b);
        }
        int e = errno;
        close(server_fd);
        server_fd = -1;
        if (fresh || attempt == 1) {
            *err = errorf("ERR model server lost (socket %s: %s)", server_socket, strerror(e));
            return -1;
        }
    }
    return -1;
}

/* The stored model's fields, read with HashGet; NULL fields when absent. */
struct record {
    RedisModuleString *type, *id, *backend, *device, *tag, *batch, *minbatch, *minbatchtimeout, *inputs, *outputs;
};

static void record_free(RedisModuleCtx *ctx, struct record *r) {
    RedisModuleString **f = (RedisModuleString **)r;
    for (size_t k = 0; k < sizeof *r / sizeof *f; k++)
        if (f[k]) RM.FreeString(ctx, f[k]);
    memset(r, 0, sizeof *r);
}

static int str_is(RedisModuleString *s, const char *text) {
    size_t n;
    const char *p;
    if (s == NULL) return 0;
    p = RM.StringPtrLen(s, &n);
    return n == strlen(text) && memcmp(p, text, n) == 0;
}

/* Reads the model at an open key. NULL on success, or the error reply (model key empty / WRONGTYPE). */
static const char *record_read(RedisModuleKey *key, struct record *r) {
    memset(r, 0, sizeof *r);
    int type = RM.KeyType(key);
    if (type == RM_KEYTYPE_EMPTY) return MODEL_EMPTY;
    if (type != RM_KEYTYPE_HASH) return WRONGTYPE;
    RM.HashGet(key, RM_HASH_CFIELDS, "type", &r->type, "id", &r->id, "backend", &r->backend, "device", &r->device,
               "tag", &r->tag, "batchsize", &r->batch, "minbatchsize", &r->minbatch, "minbatchtimeout",
               &r->minbatchtimeout, "inputs", &r->inputs, "outputs", &r->outputs, NULL);
    if (!str_is(r->type, MODEL_MARK) || r->id == NULL || r->backend == NULL || r->device == NULL) return WRONGTYPE;
    return NULL;
}

static void put_names_from(struct buf *b, RedisModuleString *encoded) {
    size_t n = 0;
    const char *p = encoded ? RM.StringPtrLen(encoded, &n) : "";
    uint32_t count = 0;
    size_t at = b->len;
    buf_u32(b, 0);
    struct rd r = {p, n, 0};
    while (r.left >= 4) {
        size_t len;
        const char *name = rd_bytes(&r, &len);
        if (r.bad) break;
        buf_bytes(b, name, len);
        count++;
    }
    memcpy(b->p + at, &count, 4);
}

#define SCRIPT_EMPTY "ERR script key is empty"
#define SCRIPT_MARK "smartsim.ai/script/1"

/* A stored script's fields (ai-server's ScriptRecord: type, id, device, tag, entrypoints, source). */
struct srecord {
    RedisModuleString *type, *id, *device, *tag, *entrypoints;
};

static void srecord_free(RedisModuleCtx *ctx, struct srecord *r) {
    RedisModuleString **f = (RedisModuleString **)r;
    for (size_t k = 0; k < sizeof *r / sizeof *f; k++)
        if (f[k]) RM.FreeString(ctx, f[k]);
    memset(r, 0, sizeof *r);
}

/* Reads the script at an open key: NULL, or the front's error (script key empty / WRONGTYPE). */
static const char *srecord_read(RedisModuleKey *key, struct srecord *r) {
    memset(r, 0, sizeof *r);
    int type = RM.KeyType(key);
    if (type == RM_KEYTYPE_EMPTY) return SCRIPT_EMPTY;
    if (type != RM_KEYTYPE_HASH) return WRONGTYPE;
    RM.HashGet(key, RM_HASH_CFIELDS, "type", &r->type, "id", &r->id, "device", &r->device, "tag", &r->tag,
               "entrypoints", &r->entrypoints, NULL);
    if (!str_is(r->type, SCRIPT_MARK) || r->id == NULL || r->device == NULL || r->entrypoints == NULL)
        return WRONGTYPE;
    return NULL;
}

/* For a script run the model server does not know: the stored source, read under the server's lock, sent as a
 * script LOAD (no entry points to check: they were checked when it was stored). */
static int push_script(struct job *j, char **err) {
    RedisModuleCtx *ctx = RM.GetThreadSafeContext(j->bc);
    RM.ThreadSafeContextLock(ctx);
    RedisModuleString *name = RM.CreateString(ctx, j->key, j->keylen);
    RedisModuleKey *key = RM.OpenKey(ctx, name, RM_READ);
    struct srecord r;
    const char *bad = srecord_read(key, &r);
    RedisModuleString *source = NULL;
    struct buf load = {0};
    if (bad == NULL && !str_is(r.id, j->id)) bad = SCRIPT_EMPTY; /* replaced or deleted while this run waited */
    if (bad == NULL) {
        RM.HashGet(key, RM_HASH_CFIELDS, "source", &source, NULL);
        if (source == NULL) bad = SCRIPT_EMPTY;
    }
    if (bad == NULL) {
        size_t n;
        const char *p;
        frame_begin(&load, JOB_SCRIPT_STORE);
        buf_bytes(&load, j->id, strlen(j->id));
        p = RM.StringPtrLen(r.device, &n);
        buf_bytes(&load, p, n);
        buf_u32(&load, 0);
        p = RM.StringPtrLen(source, &n);
        buf_bytes(&load, p, n);
        frame_end(&load);
    }
    if (source) RM.FreeString(ctx, source);
    srecord_free(ctx, &r);
    RM.CloseKey(key);
    RM.FreeString(ctx, name);
    RM.ThreadSafeContextUnlock(ctx);
    RM.FreeThreadSafeContext(ctx);
    if (bad != NULL) {
        *err = strdup(bad);
        return -1;
    }
    char *body = NULL;
    size_t bodylen = 0;
    int rc = roundtrip(&load, &body, &bodylen, err);
    free(load.p);
    if (rc != 0) return -1;
    if (body[0] != 'K') {
        j->body = body;
        j->bodylen = bodylen;
        return 1;
    }
    free(body);
    return 0;
}

/* For a RUN the model server does not know: reads the stored model (under the server's lock) and sends it as a LOAD.
 * 0, or -1 with *err. */
static int push_model(struct job *j, char **err) {
    if (j->kind == JOB_SCRIPT_RUN) return push_script(j, err);
    RedisModuleCtx *ctx = RM.GetThreadSafeContext(j->bc);
    RM.ThreadSafeContextLock(ctx);
    RedisModuleString *name = RM.CreateString(ctx, j->key, j->keylen);
    RedisModuleKey *key = RM.OpenKey(ctx, name, RM_READ);
    struct record r;
    const char *bad = record_read(key, &r);
    RedisModuleString *blob = NULL;
    struct buf load = {0};
    if (bad == NULL && !str_is(r.id, j->id)) bad = MODEL_EMPTY; /* replaced or deleted while this run waited */
    if (bad == NULL) {
        RM.HashGet(key, RM_HASH_CFIELDS, "blob", &blob, NULL);
        if (blob == NULL) bad = MODEL_EMPTY;
    }
    if (bad == NULL) {
        size_t n;
        const char *p;
        frame_begin(&load, JOB_STORE);
        buf_bytes(&load, j->id, strlen(j->id));
        p = RM.StringPtrLen(r.backend, &n);
        buf_bytes(&load, p, n);
        p = RM.StringPtrLen(r.device, &n);
        buf_bytes(&load, p, n);
        put_names_from(&load, r.inputs);
        put_names_from(&load, r.outputs);
        p = RM.StringPtrLen(blob, &n);
        buf_bytes(&load, p, n);
        RedisModuleString *opts[3] = {r.batch, r.minbatch, r.minbatchtimeout};
        for (int k = 0; k < 3; k++) {
            long long v = 0;
            if (opts[k]) arg_long(opts[k], &v);
            buf_u32(&load, (uint32_t)(v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : v));
        }
        frame_end(&load);
    }
    if (blob) RM.FreeString(ctx, blob);
    record_free(ctx, &r);
    RM.CloseKey(key);
    RM.FreeString(ctx, name);
    RM.ThreadSafeContextUnlock(ctx);
    RM.FreeThreadSafeContext(ctx);
    if (bad != NULL) {
        *err = strdup(bad);
        return -1;
    }
    char *body = NULL;
    size_t bodylen = 0;
    int rc = roundtrip(&load, &body, &bodylen, err);
    free(load.p);
    if (rc != 0) return -1;
    if (body[0] != 'K') {
        /* its error becomes the run's answer */
        j->body = body;
        j->bodylen = bodylen;
        return 1;
    }
    free(body);
    return 0;
}

static int store_done(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

/* Reads the answer to a request the event loop wrote on this worker's connection; on a broken connection, sends the
 * request again on a new one (roundtrip). */
static int read_answer(struct job *j) {
    uint32_t n;
    if (server_fd >= 0 && read_all(server_fd, (char *)&n, 4) == 0 && n >= 1) {
        char *b = malloc(n);
        if (b == NULL) abort();
        if (read_all(server_fd, b, n) == 0) {
            j->body = b;
            j->bodylen = n;
            return 0;
        }
        free(b);
    }
    if (server_fd >= 0) close(server_fd);
    server_fd = -1;
    return roundtrip(&j->req, &j->body, &j->bodylen, &j->err);
}

static void *worker(void *arg) {
    struct worker_slot *me = arg;
    for (;;) {
        struct job *j = NULL;
        int direct = 0;
        pthread_mutex_lock(&queue_lock);
        if (me->fd != -2) returning--; /* -2: the first pass, before any job */
        me->fd = server_fd; /* the connection the last job left (or -1) */
        for (;;) {
            if (me->sent != NULL) {
                j = me->sent;
                me->sent = NULL;
                direct = 1;
                break;
            }
            if (!me->claimed && queue_head != NULL) {
                j = queue_head;
                queue_head = j->next;
                if (queue_head == NULL) queue_tail = NULL;
                queue_len--;
                break;
            }
            struct pollfd pf[2] = {{me->wake, POLLIN, 0}, {me->fd, POLLIN, 0}};
            int npf = 2;
            if (me->claimed) {
                /* the event loop is writing on the connection: wait for "sent" on the eventfd only */
                me->waiting_sent = 1;
                npf = 1;
            } else if (!me->idle) {
                me->idle = 1;
                me->next_idle = idle_top;
                idle_top = me;
            }
            if (me->fd < 0) npf = 1;
            pthread_mutex_unlock(&queue_lock);
            while (poll(pf, (nfds_t)npf, -1) < 0 && errno == EINTR) {
            }
            if (pf[0].revents & POLLIN) {
                uint64_t v;
                if (read(me->wake, &v, sizeof v) < 0) { /* nothing to drain */
                }
            }
            pthread_mutex_lock(&queue_lock);
            me->waiting_sent = 0;
            if (npf == 2 && pf[1].revents && me->idle && me->sent == NULL && !me->claimed) {
                /* readable while no request is out: the model server closed it (or broke the protocol) */
                struct worker_slot **at = &idle_top;
                while (*at != me) at = &(*at)->next_idle;
                *at = me->next_idle;
                me->idle = 0;
                close(me->fd);
                me->fd = server_fd = -1;
            }
        }
        if (me->idle) { /* taken while still on the idle stack: off it */
            struct worker_slot **at = &idle_top;
            while (*at != me) at = &(*at)->next_idle;
            *at = me->next_idle;
            me->idle = 0;
        }
        pthread_mutex_unlock(&queue_lock);

        int ok = direct ? read_answer(j) : roundtrip(&j->req, &j->body, &j->bodylen, &j->err);
        if (ok == 0 && (j->kind == JOB_RUN || j->kind == JOB_SCRIPT_RUN) &&
            j->body[0] == 'U') {
            free(j->body);
            j->body = NULL;
            int pushed = push_model(j, &j->err);
            if (pushed == 0) roundtrip(&j->req, &j->body, &j->bodylen, &j->err);
        }
        pthread_mutex_lock(&queue_lock);
        returning++;
        pthread_mutex_unlock(&queue_lock);
        if (j->bc) RM.UnblockClient(j->bc, j);
        else job_free(j);
    }
    return NULL;
}

static int backend_known(RedisModuleString *arg, const char **name) {
    for (size_t i = 0; i < sizeof KNOWN_BACKENDS / sizeof *KNOWN_BACKENDS; i++)
        if (arg_is(arg, KNOWN_BACKENDS[i])) {
            *name = KNOWN_BACKENDS[i];
            return 1;
        }
    return 0;
}

static int backend_loaded(const char *name) {
    char want[24];
    snprintf(want, sizeof want, ",%.16s,", name);
    return strstr(loaded_backends, want) != NULL;
}

static int reply_backend_not_loaded(RedisModuleCtx *ctx, const char *name) {
    char msg[64];
    snprintf(msg, sizeof msg, "ERR Backend not loaded: %s", name);
    return RM.ReplyWithError(ctx, msg);
}

/* Model commands block their client; not possible inside MULTI or a script. Answers 1 after replying an error. */
static int cannot_block(RedisModuleCtx *ctx, RedisModuleString **argv) {
    if (!(RM.GetContextFlags(ctx) & (RM_CTX_FLAGS_MULTI | RM_CTX_FLAGS_LUA))) return 0;
    size_t n;
    const char *name = RM.StringPtrLen(argv[0], &n);
    char msg[160];
    snprintf(msg, sizeof msg, "ERR %.*s runs on the model server and cannot run inside MULTI or a script",
             (int)(n > 60 ? 60 : n), name);
    RM.ReplyWithError(ctx, msg);
    return 1;
}

static int no_server(RedisModuleCtx *ctx) {
    return RM.ReplyWithError(ctx, "ERR model server not connected (the module was loaded without SOCKET <path>)");
}

static void new_id(char *out) {
    id_counter++;
    snprintf(out, 40, "%016llx%016llx", id_seed, id_counter);
}

/* The front's unsigned(): a non-negative decimal at argv[i], or -1 after replying the error. */
static long long arg_unsigned(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, int i, const char *error) {
    long long v;
    if (i >= argc || arg_long(argv[i], &v) != 0 || v < 0) {
        RM.ReplyWithError(ctx, error);
        return -1;
    }
    return v;
}

static int valid_device(RedisModuleString *arg) {
    size_t n;
    const char *p = RM.StringPtrLen(arg, &n);
    if (arg_is(arg, "CPU") || arg_is(arg, "GPU")) return 1;
    if (n <= 4 || n > 10) return 0;
    char head[5];
    for (int k = 0; k < 4; k++) head[k] = (char)((p[k] >= 'a' && p[k] <= 'z') ? p[k] - 'a' + 'A' : p[k]);
    head[4] = 0;
    if (strcmp(head, "CPU:") != 0 && strcmp(head, "GPU:") != 0) return 0;
    for (size_t k = 4; k < n; k++)
        if (p[k] < '0' || p[k] > '9') return 0;
    return 1;
}

/* INPUTS n name... (TF): appends the names to *names (ModelRecord's encoding) and to the request; the next index, or
 * -1 after replying the error. */
static int parse_names(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, int i, const char *word,
                       const char *missing, const char *what, struct buf *names, struct buf *req) {
    char err[96];
    if (i >= argc || !arg_is(argv[i], word)) {
        RM.ReplyWithError(ctx, missing);
        return -1;
    }
    snprintf(err, sizeof err, "ERR Invalid argument for %s_count", what);
    long long n = arg_unsigned(ctx, argv, argc, i + 1, err);
    if (n < 0) return -1;
    if (n == 0) {
        RM.ReplyWithError(ctx, err);
        return -1;
    }
    i += 2;
    if (argc - i < n) {
        snprintf(err, sizeof err, "ERR number of model %ss does not match the number of given arguments", what);
        RM.ReplyWithError(ctx, err);
        return -1;
    }
    buf_u32(req, (uint32_t)n);
    for (long long k = 0; k < n; k++, i++) {
        size_t len;
        const char *p = RM.StringPtrLen(argv[i], &len);
        uint32_t l = (uint32_t)len;
        buf_put(names, &l, 4);
        buf_put(names, p, len);
        buf_bytes(req, p, len);
    }
    return i;
}

/* AI.MODELSTORE key backend device [TAG t] [BATCHSIZE n [MINBATCHSIZE m [MINBATCHTIMEOUT ms]]]
 *   [INPUTS n i... OUTPUTS m o...] BLOB chunk...: the front's checks and texts, in its order; then the model server
 *   loads the model (a blob that is not a model gets the runtime's error), and the reply callback stores the hash. */
static int cmd_modelstore(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 6) return reply_wrong_arity(ctx, argv);
    const char *backend;
    if (!backend_known(argv[2], &backend)) return RM.ReplyWithError(ctx, "ERR unsupported backend");
    if (!valid_device(argv[3])) return RM.ReplyWithError(ctx, "ERR Invalid DEVICE");
    int i = 4;
    const char *tag = "";
    size_t taglen = 0;
    if (i < argc && arg_is(argv[i], "TAG")) {
        if (i + 1 >= argc) return RM.ReplyWithError(ctx, "ERR Insufficient arguments, missing model BLOB");
        tag = RM.StringPtrLen(argv[i + 1], &taglen);
        i += 2;
    }
    long long batch = 0, minbatch = 0, minbatchtimeout = 0;
    if (i < argc && arg_is(argv[i], "BATCHSIZE")) {
        if (strcmp(backend, "TFLITE") == 0)
            return RM.ReplyWithError(ctx, "ERR Auto-batching not supported by the TFLITE backend");
        if ((batch = arg_unsigned(ctx, argv, argc, i + 1, "ERR Invalid argument for BATCHSIZE")) < 0) return RM_OK;
        i += 2;
    }
    if (i < argc && arg_is(argv[i], "MINBATCHSIZE")) {
        if (batch == 0) return RM.ReplyWithError(ctx, "ERR MINBATCHSIZE specified without BATCHSIZE");
        if ((minbatch = arg_unsigned(ctx, argv, argc, i + 1, "ERR Invalid argument for MINBATCHSIZE")) < 0)
            return RM_OK;
        i += 2;
    }
    if (i < argc && arg_is(argv[i], "MINBATCHTIMEOUT")) {
        if (minbatch == 0) return RM.ReplyWithError(ctx, "ERR MINBATCHTIMEOUT specified without MINBATCHSIZE");
        if ((minbatchtimeout = arg_unsigned(ctx, argv, argc, i + 1, "ERR Invalid argument for MINBATCHTIMEOUT")) < 0)
            return RM_OK;
        i += 2;
    }
    if (i >= argc) return RM.ReplyWithError(ctx, "ERR Insufficient arguments, missing model BLOB");

    struct job *j = calloc(1, sizeof *j);
    if (j == NULL) abort();
    j->kind = JOB_STORE;
    new_id(j->id);
    frame_begin(&j->req, JOB_STORE);
    buf_bytes(&j->req, j->id, strlen(j->id));
    buf_bytes(&j->req, backend, strlen(backend));
    size_t dn;
    const char *dev = RM.StringPtrLen(argv[3], &dn);
    buf_bytes(&j->req, dev, dn);
    if (strcmp(backend, "TF") == 0) {
        i = parse_names(ctx, argv, argc, i, "INPUTS", "ERR INPUTS not specified for TF", "input", &j->innames, &j->req);
        if (i >= 0)
            i = parse_names(ctx, argv, argc, i, "OUTPUTS", "ERR OUTPUTS not specified for TF", "output", &j->outnames,
                            &j->req);
        if (i < 0) {
            job_free(j);
            return RM_OK;
        }
    } else {
        if (arg_is(argv[i], "INPUTS")) {
            job_free(j);
            return RM.ReplyWithError(ctx, "ERR INPUTS argument should not be specified for this backend");
        }
        buf_u32(&j->req, 0);
        buf_u32(&j->req, 0);
    }
    if (i >= argc || !arg_is(argv[i], "BLOB")) {
        job_free(j);
        return RM.ReplyWithError(ctx, "ERR Invalid argument, expected BLOB");
    }
    i++;
    if (i >= argc) {
        job_free(j);
        return RM.ReplyWithError(ctx, "ERR Insufficient arguments, missing model BLOB");
    }
    size_t total = 0;
    for (int k = i; k < argc; k++) {
        size_t n;
        RM.StringPtrLen(argv[k], &n);
        total += n;
    }
    if (total > (size_t)MAX_DATA) {
        char msg[96];
        snprintf(msg, sizeof msg, "ERR model of %zu bytes is larger than 2 GiB", total);
        job_free(j);
        return RM.ReplyWithError(ctx, msg);
    }
    if (!backend_loaded(backend)) {
        job_free(j);
        return reply_backend_not_loaded(ctx, backend);
    }
    if (server_socket == NULL) {
        job_free(j);
        return no_server(ctx);
    }
    if (cannot_block(ctx, argv)) {
        job_free(j);
        return RM_OK;
    }
    buf_u32(&j->req, (uint32_t)total);
    j->blob_at = j->req.len;
    j->blob_len = total;
    for (int k = i; k < argc; k++) {
        size_t n;
        const char *p = RM.StringPtrLen(argv[k], &n);
        buf_put(&j->req, p, n);
    }
    /* the auto-batching options, which the model server applies */
    buf_u32(&j->req, (uint32_t)(batch > UINT32_MAX ? UINT32_MAX : batch));
    buf_u32(&j->req, (uint32_t)(minbatch > UINT32_MAX ? UINT32_MAX : minbatch));
    buf_u32(&j->req, (uint32_t)(minbatchtimeout > UINT32_MAX ? UINT32_MAX : minbatchtimeout));
    frame_end(&j->req);
    size_t kl;
    const char *kp = RM.StringPtrLen(argv[1], &kl);
    j->key = malloc(kl ? kl : 1);
    memcpy(j->key, kp, kl);
    j->keylen = kl;
    snprintf(j->backend, sizeof j->backend, "%s", backend);
    snprintf(j->device, sizeof j->device, "%.*s", (int)dn, dev);
    j->tag = malloc(taglen ? taglen : 1);
    memcpy(j->tag, tag, taglen);
    j->taglen = taglen;
    j->batch = batch;
    j->minbatch = minbatch;
    j->minbatchtimeout = minbatchtimeout;
    j->bc = RM.BlockClient(ctx, store_done, NULL, free_privdata, 0);
    enqueue(j);
    return RM_OK;
}


/* AI.INFO counters per model key, kept in the module's memory as RedisAI keeps them (and the front in its own): they
 * start from zero when redis-server starts, and at each AI.MODELSTORE of the key. Main thread only. */
struct stats {
    struct stats *next;
    char *key;
    size_t keylen;
    long long duration, samples, calls, errors;
};
#define STATS_BUCKETS 256
static struct stats *stats_table[STATS_BUCKETS];

static unsigned stats_hash(const char *k, size_t n) {
    unsigned h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)k[i]) * 16777619u;
    return h % STATS_BUCKETS;
}

static struct stats **stats_find(const char *k, size_t n) {
    struct stats **p = &stats_table[stats_hash(k, n)];
    while (*p && !((*p)->keylen == n && memcmp((*p)->key, k, n) == 0)) p = &(*p)->next;
    return p;
}

static struct stats *stats_get(const char *k, size_t n) {
    struct stats **p = stats_find(k, n);
    if (*p == NULL) {
        struct stats *s = calloc(1, sizeof *s);
        if (s == NULL) abort();
        s->key = malloc(n ? n : 1);
        if (s->key == NULL) abort();
        memcpy(s->key, k, n);
        s->keylen = n;
        *p = s;
    }
    return *p;
}

static void stats_remove(const char *k, size_t n) {
    struct stats **p = stats_find(k, n);
    if (*p) {
        struct stats *s = *p;
        *p = s->next;
        free(s->key);
        free(s);
    }
}

/* Tells the model server to forget a model (deleted or replaced); nobody waits for it. */
static void queue_drop(const char *id, size_t n) {
    if (server_socket == NULL) return;
    struct job *j = calloc(1, sizeof *j);
    if (j == NULL) abort();
    j->kind = JOB_DROP;
    frame_begin(&j->req, JOB_DROP);
    buf_bytes(&j->req, id, n);
    frame_end(&j->req);
    enqueue(j);
}

/* The model server's answer when it is not OK: 1 after replying it (error text, or TIMEDOUT), 0 if it is OK. */
static int reply_failure(RedisModuleCtx *ctx, struct job *j) {
    if (j->err) {
        RM.ReplyWithError(ctx, j->err);
        return 1;
    }
    if (j->body[0] == 'K') return 0;
    if (j->body[0] == 'T') {
        RM.ReplyWithSimpleString(ctx, "TIMEDOUT");
        return 1;
    }
    struct rd r = {j->body + 1, j->bodylen - 1, 0};
    size_t n;
    const char *text = j->body[0] == 'E' || j->body[0] == 'F' ? rd_bytes(&r, &n) : NULL;
    if (text == NULL) {
        RM.ReplyWithError(ctx, "ERR model server: unexpected answer");
        return 1;
    }
    char *msg = malloc(n + 1);
    if (msg == NULL) abort();
    memcpy(msg, text, n);
    msg[n] = 0;
    RM.ReplyWithError(ctx, msg);
    free(msg);
    return 1;
}

static RedisModuleString *ll_string(RedisModuleCtx *ctx, long long v) {
    char s[32];
    int n = snprintf(s, sizeof s, "%lld", v);
    return RM.CreateString(ctx, s, (size_t)n);
}

/* On the main thread once the model server loaded the model: stores it as the front's hash (DEL then HSET, which is
 * also what replicas and the AOF get: they need no model server to keep it). */
static int store_done(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    struct job *j = RM.GetBlockedClientPrivateData(ctx);
    if (reply_failure(ctx, j)) return RM_OK;
    RedisModuleString *name = RM.CreateString(ctx, j->key, j->keylen);
    RedisModuleKey *key = RM.OpenKey(ctx, name, RM_READ | RM_WRITE);
    int type = RM.KeyType(key);
    if (type != RM_KEYTYPE_EMPTY) {
        struct record old;
        const char *bad = record_read(key, &old);
        if (bad != NULL) {
            /* not a model: refused, as RedisAI's MODELSTORE does; the loaded copy is dropped */
            record_free(ctx, &old);
            RM.CloseKey(key);
            RM.FreeString(ctx, name);
            queue_drop(j->id, strlen(j->id));
            return RM.ReplyWithError(ctx, WRONGTYPE);
        }
        size_t n;
        const char *oid = RM.StringPtrLen(old.id, &n);
        queue_drop(oid, n);
        record_free(ctx, &old);
        RM.DeleteKey(key);
    }
    RedisModuleString *v[11];
    v[0] = RM.CreateString(ctx, MODEL_MARK, strlen(MODEL_MARK));
    v[1] = RM.CreateString(ctx, j->id, strlen(j->id));
    v[2] = RM.CreateString(ctx, j->backend, strlen(j->backend));
    v[3] = RM.CreateString(ctx, j->device, strlen(j->device));
    v[4] = RM.CreateString(ctx, j->tag, j->taglen);
    v[5] = ll_string(ctx, j->batch);
    v[6] = ll_string(ctx, j->minbatch);
    v[7] = ll_string(ctx, j->minbatchtimeout);
    v[8] = RM.CreateString(ctx, j->innames.p ? j->innames.p : "", j->innames.len);
    v[9] = RM.CreateString(ctx, j->outnames.p ? j->outnames.p : "", j->outnames.len);
    v[10] = RM.CreateString(ctx, j->req.p + j->blob_at, j->blob_len);
    RM.HashSet(key, RM_HASH_CFIELDS, "type", v[0], "id", v[1], "backend", v[2], "device", v[3], "tag", v[4],
               "batchsize", v[5], "minbatchsize", v[6], "minbatchtimeout", v[7], "inputs", v[8], "outputs", v[9],
               "blob", v[10], NULL);
    RM.CloseKey(key);
    RM.Replicate(ctx, "DEL", "s", name);
    RM.Replicate(ctx, "HSET", "scscscscscscscscscscscs", name, "type", v[0], "id", v[1], "backend", v[2], "device",
                 v[3], "tag", v[4], "batchsize", v[5], "minbatchsize", v[6], "minbatchtimeout", v[7], "inputs", v[8],
                 "outputs", v[9], "blob", v[10]);
    RM.NotifyKeyspaceEvent(ctx, 1 << 4 /* hash */, "hset", name);
    stats_remove(j->key, j->keylen);
    stats_get(j->key, j->keylen);
    for (int k = 0; k < 11; k++) RM.FreeString(ctx, v[k]);
    RM.FreeString(ctx, name);
    return RM.ReplyWithSimpleString(ctx, "OK");
}

/* On the main thread once the model ran: writes the outputs on this shard (a plain SET for replicas and the AOF). */
static int run_done(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    struct job *j = RM.GetBlockedClientPrivateData(ctx);
    if (j->err == NULL && (j->body[0] == 'F' || j->body[0] == 'T')) stats_get(j->key, j->keylen)->errors++;
    if (reply_failure(ctx, j)) return RM_OK;
    struct rd r = {j->body + 1, j->bodylen - 1, 0};
    uint32_t n = rd_u32(&r);
    const char *vals[256];
    size_t lens[256];
    if (r.bad || (int)n != j->nout || n > 256) return RM.ReplyWithError(ctx, "ERR model server: unexpected answer");
    for (uint32_t k = 0; k < n; k++) {
        const struct dtype *t;
        int nd;
        const char *dims, *data;
        size_t dlen;
        vals[k] = rd_bytes(&r, &lens[k]);
        if (r.bad || decode(vals[k], lens[k], &t, &nd, &dims, &data, &dlen) != 0)
            return RM.ReplyWithError(ctx, "ERR model server: unexpected answer");
    }
    uint64_t micros = 0;
    if (r.left >= 8) memcpy(&micros, r.p, 8);
    struct stats *st = stats_get(j->key, j->keylen);
    st->duration += (long long)micros;
    st->calls++;
    st->samples += j->samples;
    for (uint32_t k = 0; k < n; k++) {
        RedisModuleString *name = RM.CreateString(ctx, j->okeys[k], j->okeylens[k]);
        RedisModuleString *value = RM.CreateString(ctx, vals[k], lens[k]);
        RedisModuleKey *key = RM.OpenKey(ctx, name, RM_WRITE);
        RM.StringSet(key, value);
        RM.CloseKey(key);
        RM.Replicate(ctx, "SET", "ss", name, value);
        RM.NotifyKeyspaceEvent(ctx, RM_NOTIFY_STRING, "set", name);
        RM.FreeString(ctx, value);
        RM.FreeString(ctx, name);
    }
    return RM.ReplyWithSimpleString(ctx, "OK");
}

/* Java's Long.parseLong count with the front's two texts: -1 after replying. */
static long long arg_count(RedisModuleCtx *ctx, RedisModuleString *arg, const char *not_number,
                           const char *not_positive) {
    long long n;
    if (arg_long(arg, &n) != 0) {
        RM.ReplyWithError(ctx, not_number);
        return -1;
    }
    if (n <= 0) {
        RM.ReplyWithError(ctx, not_positive);
        return -1;
    }
    return n;
}

static int reply_invalid_argument(RedisModuleCtx *ctx, RedisModuleString *arg) {
    size_t n;
    const char *p = RM.StringPtrLen(arg, &n);
    char msg[200];
    snprintf(msg, sizeof msg, "Invalid argument: %.*s", (int)(n > 150 ? 150 : n), p);
    return RM.ReplyWithError(ctx, msg);
}

/* AI.MODELEXECUTE key INPUTS n i... OUTPUTS m o... [TIMEOUT ms]: the front's checks in its order (the model's own
 * input and output counts are checked by the model server); the inputs are read here, now; the run goes to the model
 * server; run_done writes the outputs. */
static int cmd_modelexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (RM.IsKeysPositionRequest(ctx)) {
        keys_modelexecute(ctx, argv, argc);
        return RM_OK;
    }
    if (argc < 8) return RM.ReplyWithError(ctx, "ERR wrong number of arguments for 'AI.MODELEXECUTE' command");
    RedisModuleKey *mkey = RM.OpenKey(ctx, argv[1], RM_READ);
    struct record rec;
    const char *bad = record_read(mkey, &rec);
    RM.CloseKey(mkey);
    if (bad != NULL) {
        record_free(ctx, &rec);
        return RM.ReplyWithError(ctx, bad);
    }
    char backend[16];
    size_t n;
    const char *p = RM.StringPtrLen(rec.backend, &n);
    snprintf(backend, sizeof backend, "%.*s", (int)(n > 15 ? 15 : n), p);
    char id[40];
    p = RM.StringPtrLen(rec.id, &n);
    snprintf(id, sizeof id, "%.*s", (int)(n > 39 ? 39 : n), p);
    record_free(ctx, &rec);

    int i = 2;
    if (!arg_is(argv[i++], "INPUTS")) return RM.ReplyWithError(ctx, "ERR INPUTS not specified");
    long long nin = arg_count(ctx, argv[i++], "ERR Invalid argument for input_count",
                              "ERR Input count must be a positive integer");
    if (nin < 0) return RM_OK;
    if (!backend_loaded(backend)) return reply_backend_not_loaded(ctx, backend);
    if (i + nin > argc)
        return RM.ReplyWithError(ctx, "ERR number of input keys to AI.MODELEXECUTE command does not match the number "
                                      "of given arguments");
    int in_at = i;
    i += (int)nin;
    if (i >= argc || !arg_is(argv[i++], "OUTPUTS")) return RM.ReplyWithError(ctx, "ERR OUTPUTS not specified");
    if (i >= argc) return RM.ReplyWithError(ctx, "ERR Invalid argument for output_count");
    long long nout = arg_count(ctx, argv[i++], "ERR Invalid argument for output_count",
                               "ERR Output count must be a positive integer");
    if (nout < 0) return RM_OK;
    if (i + nout > argc)
        return RM.ReplyWithError(ctx, "ERR number of output keys to AI.MODELEXECUTE command does not match the number "
                                      "of given arguments");
    int out_at = i;
    i += (int)nout;
    long long timeout = 0;
    if (i < argc) {
        if (!arg_is(argv[i], "TIMEOUT")) return reply_invalid_argument(ctx, argv[i]);
        i++;
        if (i >= argc) return RM.ReplyWithError(ctx, "ERR No value provided for TIMEOUT");
        if (arg_long(argv[i], &timeout) != 0 || timeout <= 0)
            return RM.ReplyWithError(ctx, "ERR Invalid value for TIMEOUT");
        i++;
        if (i != argc) return reply_invalid_argument(ctx, argv[i]);
    }
    if (nout > 256) return RM.ReplyWithError(ctx, "ERR a model run writes at most 256 outputs");
    if (server_socket == NULL) return no_server(ctx);
    if (cannot_block(ctx, argv)) return RM_OK;

    struct job *j = calloc(1, sizeof *j);
    if (j == NULL) abort();
    j->kind = JOB_RUN;
    snprintf(j->id, sizeof j->id, "%s", id);
    frame_begin(&j->req, JOB_RUN);
    buf_bytes(&j->req, id, strlen(id));
    buf_u32(&j->req, (uint32_t)(timeout > UINT32_MAX ? UINT32_MAX : timeout));
    buf_u32(&j->req, (uint32_t)nout);
    buf_u32(&j->req, (uint32_t)nin);
    for (long long k = 0; k < nin; k++) {
        RedisModuleKey *key = RM.OpenKey(ctx, argv[in_at + k], RM_READ);
        int type = RM.KeyType(key);
        size_t vlen = 0, dlen;
        const char *v = type == RM_KEYTYPE_STRING ? RM.StringDMA(key, &vlen, RM_READ) : NULL;
        const struct dtype *t;
        int nd;
        const char *dims, *data;
        if (v == NULL || decode(v, vlen, &t, &nd, &dims, &data, &dlen) != 0) {
            RM.CloseKey(key);
            job_free(j);
            return RM.ReplyWithError(ctx, type == RM_KEYTYPE_EMPTY ? TENSOR_EMPTY : WRONGTYPE);
        }
        if (k == 0) {
            long long d0 = 1;
            if (nd > 0) memcpy(&d0, dims, 8);
            j->samples = d0;
        }
        buf_bytes(&j->req, v, vlen);
        RM.CloseKey(key);
    }
    frame_end(&j->req);
    p = RM.StringPtrLen(argv[1], &n);
    j->key = malloc(n ? n : 1);
    memcpy(j->key, p, n);
    j->keylen = n;
    j->nout = (int)nout;
    j->okeys = calloc((size_t)nout, sizeof *j->okeys);
    j->okeylens = calloc((size_t)nout, sizeof *j->okeylens);
    if (j->okeys == NULL || j->okeylens == NULL) abort();
    for (long long k = 0; k < nout; k++) {
        p = RM.StringPtrLen(argv[out_at + k], &n);
        j->okeys[k] = malloc(n ? n : 1);
        memcpy(j->okeys[k], p, n);
        j->okeylens[k] = n;
    }
    j->bc = RM.BlockClient(ctx, run_done, NULL, free_privdata, 0);
    enqueue(j);
    return RM_OK;
}

static void reply_names(RedisModuleCtx *ctx, RedisModuleString *encoded) {
    size_t n = 0;
    const char *p = encoded ? RM.StringPtrLen(encoded, &n) : "";
    long count = 0;
    struct rd r = {p, n, 0};
    while (r.left >= 4) {
        size_t len;
        rd_bytes(&r, &len);
        if (r.bad) break;
        count++;
    }
    RM.ReplyWithArray(ctx, count);
    r = (struct rd){p, n, 0};
    for (long k = 0; k < count; k++) {
        size_t len;
        const char *name = rd_bytes(&r, &len);
        RM.ReplyWithStringBuffer(ctx, name, len);
    }
}

static void reply_ll_field(RedisModuleCtx *ctx, RedisModuleString *s) {
    long long v = 0;
    if (s) arg_long(s, &v);
    RM.ReplyWithLongLong(ctx, v);
}

static void reply_str_field(RedisModuleCtx *ctx, RedisModuleString *s) {
    size_t n = 0;
    const char *p = s ? RM.StringPtrLen(s, &n) : "";
    RM.ReplyWithStringBuffer(ctx, p, n);
}

/* AI.MODELGET key [META] [BLOB]: from the stored hash, on the main thread; no model server needed. */
static int cmd_modelget(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 2 || argc > 4) return reply_wrong_arity(ctx, argv);
    RedisModuleKey *key = RM.OpenKey(ctx, argv[1], RM_READ);
    struct record r;
    const char *bad = record_read(key, &r);
    if (bad != NULL) {
        record_free(ctx, &r);
        RM.CloseKey(key);
        return RM.ReplyWithError(ctx, bad);
    }
    int meta = argc == 2, blob = argc == 2;
    for (int i = 2; i < argc; i++) {
        if (arg_is(argv[i], "META")) meta = 1;
        else if (arg_is(argv[i], "BLOB")) blob = 1;
    }
    RedisModuleString *bytes = NULL;
    const char *err = NULL;
    if (!meta && !blob) err = "ERR no META or BLOB specified";
    if (err == NULL && blob) {
        RM.HashGet(key, RM_HASH_CFIELDS, "blob", &bytes, NULL);
        if (bytes == NULL) err = MODEL_EMPTY;
    }
    if (err != NULL) {
        RM.ReplyWithError(ctx, err);
    } else if (!meta) {
        reply_str_field(ctx, bytes); /* one bulk string: SmartRedis 0.6.1 mis-joins chunk arrays */
    } else {
        RM.ReplyWithArray(ctx, blob ? 18 : 16);
        RM.ReplyWithCString(ctx, "backend");
        reply_str_field(ctx, r.backend);
        RM.ReplyWithCString(ctx, "device");
        reply_str_field(ctx, r.device);
        RM.ReplyWithCString(ctx, "tag");
        reply_str_field(ctx, r.tag);
        RM.ReplyWithCString(ctx, "batchsize");
        reply_ll_field(ctx, r.batch);
        RM.ReplyWithCString(ctx, "minbatchsize");
        reply_ll_field(ctx, r.minbatch);
        RM.ReplyWithCString(ctx, "inputs");
        reply_names(ctx, r.inputs);
        RM.ReplyWithCString(ctx, "outputs");
        reply_names(ctx, r.outputs);
        RM.ReplyWithCString(ctx, "minbatchtimeout");
        reply_ll_field(ctx, r.minbatchtimeout);
        if (blob) {
            RM.ReplyWithCString(ctx, "blob");
            reply_str_field(ctx, bytes);
        }
    }
    if (bytes) RM.FreeString(ctx, bytes);
    record_free(ctx, &r);
    RM.CloseKey(key);
    return RM_OK;
}

/* AI.MODELDEL key: deletes the stored hash here and tells the model server to drop its copy. */
static int cmd_modeldel(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return reply_wrong_arity(ctx, argv);
    RedisModuleKey *key = RM.OpenKey(ctx, argv[1], RM_READ | RM_WRITE);
    struct record r;
    const char *bad = record_read(key, &r);
    if (bad != NULL) {
        record_free(ctx, &r);
        RM.CloseKey(key);
        return RM.ReplyWithError(ctx, bad);
    }
    size_t n;
    const char *id = RM.StringPtrLen(r.id, &n);
    queue_drop(id, n);
    record_free(ctx, &r);
    RM.DeleteKey(key);
    RM.CloseKey(key);
    size_t kl;
    const char *kp = RM.StringPtrLen(argv[1], &kl);
    stats_remove(kp, kl);
    RM.Replicate(ctx, "DEL", "s", argv[1]);
    RM.NotifyKeyspaceEvent(ctx, 1 << 2 /* generic */, "del", argv[1]);
    return RM.ReplyWithSimpleString(ctx, "OK");
}

/* AI.CONFIG LOADBACKEND|BACKENDSPATH|MODEL_CHUNK_SIZE|GET: the front's subcommands and texts. */
static int cmd_config(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 2) return reply_wrong_arity(ctx, argv);
    if (arg_is(argv[1], "LOADBACKEND")) {
        if (argc < 4) return reply_wrong_arity(ctx, argv);
        const char *name;
        if (!backend_known(argv[2], &name)) return RM.ReplyWithError(ctx, "ERR unsupported backend");
        if (!backend_loaded(name)) return RM.ReplyWithError(ctx, "ERR error loading backend");
        return RM.ReplyWithSimpleString(ctx, "OK");
    }
    if (arg_is(argv[1], "BACKENDSPATH")) {
        if (argc < 3) return RM.ReplyWithError(ctx, "ERR BACKENDSPATH: missing path argument");
        size_t n;
        const char *p = RM.StringPtrLen(argv[2], &n);
        snprintf(backends_path, sizeof backends_path, "%.*s", (int)(n >= sizeof backends_path ? 0 : n), p);
        return RM.ReplyWithSimpleString(ctx, "OK");
    }
    if (arg_is(argv[1], "MODEL_CHUNK_SIZE")) {
        if (argc < 3) return RM.ReplyWithError(ctx, "ERR MODEL_CHUNK_SIZE: missing chunk size");
        long long v;
        if (arg_long(argv[2], &v) != 0 || v <= 0) return RM.ReplyWithError(ctx, "ERR MODEL_CHUNK_SIZE: invalid chunk size");
        chunk_size = v;
        return RM.ReplyWithSimpleString(ctx, "OK");
    }
    if (arg_is(argv[1], "GET")) {
        if (argc < 3) return reply_wrong_arity(ctx, argv);
        if (arg_is(argv[2], "MODEL_CHUNK_SIZE")) return RM.ReplyWithLongLong(ctx, chunk_size);
        if (arg_is(argv[2], "BACKENDSPATH")) return RM.ReplyWithCString(ctx, backends_path);
        return RM.ReplyWithNull(ctx);
    }
    return RM.ReplyWithError(ctx, "ERR unsupported subcommand");
}

/* On the main thread once the model server named its backends and their versions: the front's reply to AI.INFO
 * without a key (RedisAI's version, then one "<runtime> version" per loaded backend). */
static int versions_done(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    struct job *j = RM.GetBlockedClientPrivateData(ctx);
    if (reply_failure(ctx, j)) return RM_OK;
    struct rd r = {j->body + 1, j->bodylen - 1, 0};
    uint32_t n = rd_u32(&r);
    struct rd check = r;
    for (uint32_t k = 0; k < 2 * n && !check.bad; k++) {
        size_t len;
        rd_bytes(&check, &len);
    }
    if (r.bad || check.bad || n > 16) return RM.ReplyWithError(ctx, "ERR model server: unexpected answer");
    RM.ReplyWithArray(ctx, 6 + 2 * (long)n);
    RM.ReplyWithSimpleString(ctx, "Version");
    RM.ReplyWithCString(ctx, RAI_VERSION);
    RM.ReplyWithSimpleString(ctx, "Low Level API Version");
    RM.ReplyWithCString(ctx, "1");
    RM.ReplyWithSimpleString(ctx, "RDB Encoding version");
    RM.ReplyWithCString(ctx, "1");
    for (uint32_t k = 0; k < n; k++) {
        size_t nl, vl;
        const char *name = rd_bytes(&r, &nl);
        const char *version = rd_bytes(&r, &vl);
        const char *label = "ONNX version";
        if (nl == 2 && memcmp(name, "TF", 2) == 0) label = "TensorFlow version";
        else if (nl == 5 && memcmp(name, "TORCH", 5) == 0) label = "Torch version";
        else if (nl == 6 && memcmp(name, "TFLITE", 6) == 0) label = "TFLite version";
        RM.ReplyWithSimpleString(ctx, label);
        /* a simple string, as the front answers it; a version has no line break */
        char v[128];
        size_t m = 0;
        for (size_t c = 0; c < vl && m + 1 < sizeof v; c++)
            if (version[c] != '\r' && version[c] != '\n') v[m++] = version[c];
        v[m] = 0;
        RM.ReplyWithSimpleString(ctx, v);
    }
    return RM_OK;
}

/* AI.INFO without a key: the backends' versions, which only the model server knows. */
static int info_versions(RedisModuleCtx *ctx, RedisModuleString **argv) {
    if (server_socket == NULL) return no_server(ctx);
    if (cannot_block(ctx, argv)) return RM_OK;
    struct job *j = calloc(1, sizeof *j);
    if (j == NULL) abort();
    j->kind = JOB_VERSIONS;
    frame_begin(&j->req, JOB_VERSIONS);
    frame_end(&j->req);
    j->bc = RM.BlockClient(ctx, versions_done, NULL, free_privdata, 0);
    enqueue(j);
    return RM_OK;
}

/* AI.INFO [key [RESETSTAT]]: the model's or script's run counters (the front's reply: 18 elements, or OK for
 * RESETSTAT); without a key, the backends' versions from the model server. */
static int cmd_info(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc > 3) return reply_wrong_arity(ctx, argv);
    if (argc == 1) return info_versions(ctx, argv);
    RedisModuleKey *key = RM.OpenKey(ctx, argv[1], RM_READ);
    struct record r;
    struct srecord sr;
    memset(&sr, 0, sizeof sr);
    const char *bad = record_read(key, &r);
    int script = 0;
    if (bad != NULL) {
        record_free(ctx, &r);
        script = srecord_read(key, &sr) == NULL;
        if (script) {
            r.device = sr.device;
            r.tag = sr.tag;
            sr.device = sr.tag = NULL;
        }
    }
    RM.CloseKey(key);
    srecord_free(ctx, &sr);
    if (bad != NULL && !script) {
        record_free(ctx, &r);
        return RM.ReplyWithError(ctx, "ERR cannot find run info for key");
    }
    size_t kl;
    const char *kp = RM.StringPtrLen(argv[1], &kl);
    struct stats *st = stats_get(kp, kl);
    if (argc == 3 && arg_is(argv[2], "RESETSTAT")) {
        st->duration = st->samples = st->calls = st->errors = 0;
        record_free(ctx, &r);
        return RM.ReplyWithSimpleString(ctx, "OK");
    }
    RM.ReplyWithArray(ctx, 18);
    RM.ReplyWithCString(ctx, "key");
    RM.ReplyWithStringBuffer(ctx, kp, kl);
    RM.ReplyWithCString(ctx, "type");
    RM.ReplyWithCString(ctx, script ? "SCRIPT" : "MODEL");
    RM.ReplyWithCString(ctx, "backend");
    if (script) RM.ReplyWithCString(ctx, "TORCH");
    else reply_str_field(ctx, r.backend);
    RM.ReplyWithCString(ctx, "device");
    reply_str_field(ctx, r.device);
    RM.ReplyWithCString(ctx, "tag");
    reply_str_field(ctx, r.tag);
    RM.ReplyWithCString(ctx, "duration");
    RM.ReplyWithLongLong(ctx, st->duration);
    RM.ReplyWithCString(ctx, "samples");
    RM.ReplyWithLongLong(ctx, st->samples);
    RM.ReplyWithCString(ctx, "calls");
    RM.ReplyWithLongLong(ctx, st->calls);
    RM.ReplyWithCString(ctx, "errors");
    RM.ReplyWithLongLong(ctx, st->errors);
    record_free(ctx, &r);
    return RM_OK;
}

/* AI._LIST [COUNT n]: the keys of this process's AI.INFO counters that still hold a model or a script (their hash's
 * type field), sorted bytewise, at most n of them (the telemetry collector asks COUNT 101 to learn whether there are
 * more than its 100). A counter whose key no longer holds one (DEL, RENAME, FLUSHALL, EXPIRE, a slot migrated away)
 * is dropped here. Counters exist from a key's AI.MODELSTORE / AI.SCRIPTSET / AI.SCRIPTSTORE, its first run, or an
 * AI.INFO of it in this process: so a replica, whose models come by replication (HSET) and never run there, lists
 * none, and after a restart a model is listed again from its first run. No keys, no blocking: O(counters) on the
 * event loop, one HashGet of the type field per counter. */
static int stats_cmp(const void *a, const void *b) {
    const struct stats *x = *(const struct stats *const *)a, *y = *(const struct stats *const *)b;
    size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
    int c = memcmp(x->key, y->key, n);
    return c != 0 ? c : (x->keylen > y->keylen) - (x->keylen < y->keylen);
}

static int cmd_list(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    long long max = LLONG_MAX;
    if (argc != 1 && argc != 3) return reply_wrong_arity(ctx, argv);
    if (argc == 3) {
        if (!arg_is(argv[1], "COUNT"))
            return RM.ReplyWithError(ctx, "ERR AI._LIST takes COUNT n or nothing, e.g. AI._LIST COUNT 100");
        if (arg_long(argv[2], &max) != 0 || max < 1)
            return RM.ReplyWithError(ctx, "ERR AI._LIST COUNT must be a whole number of 1 or more, e.g. AI._LIST COUNT 100");
    }
    size_t have = 0, room = 16;
    struct stats **live = malloc(room * sizeof *live);
    if (live == NULL) abort();
    for (int b = 0; b < STATS_BUCKETS; b++) {
        struct stats **p = &stats_table[b];
        while (*p) {
            struct stats *s = *p;
            RedisModuleString *name = RM.CreateString(ctx, s->key, s->keylen);
            RedisModuleKey *key = RM.OpenKey(ctx, name, RM_READ);
            RedisModuleString *type = NULL;
            if (RM.KeyType(key) == RM_KEYTYPE_HASH) RM.HashGet(key, RM_HASH_CFIELDS, "type", &type, NULL);
            int kept = str_is(type, MODEL_MARK) || str_is(type, SCRIPT_MARK);
            if (type) RM.FreeString(ctx, type);
            RM.CloseKey(key);
            RM.FreeString(ctx, name);
            if (!kept) {
                *p = s->next;
                free(s->key);
                free(s);
                continue;
            }
            if (have == room) {
                room *= 2;
                live = realloc(live, room * sizeof *live);
                if (live == NULL) abort();
            }
            live[have++] = s;
            p = &s->next;
        }
    }
    qsort(live, have, sizeof *live, stats_cmp);
    size_t n = (unsigned long long)max < have ? (size_t)max : have;
    RM.ReplyWithArray(ctx, (long)n);
    for (size_t k = 0; k < n; k++) RM.ReplyWithStringBuffer(ctx, live[k]->key, live[k]->keylen);
    free(live);
    return RM_OK;
}

/* ------------------------------------------------------------------ scripts
 *
 * Scripts are stored as the front's hash (ScriptRecord) and compiled by the model server's TORCH backend, keyed by the
 * hash's id, as models are: AI.SCRIPTSET/STORE compile there first (a script libtorch refuses is never stored), then
 * store the hash here; AI.SCRIPTRUN/EXECUTE read the inputs here, call the function there, and write the outputs here
 * (run_done). The argument checks and texts are the front's (ai-server's ScriptCommands), in its order. */

static char *copy_arg(RedisModuleString *arg, size_t *len) {
    size_t n;
    const char *p = RM.StringPtrLen(arg, &n);
    char *c = malloc(n + 1);
    if (c == NULL) abort();
    memcpy(c, p, n);
    c[n] = 0;
    if (len) *len = n;
    return c;
}

/* "<prefix><arg>" as an error reply, the argument as long as it is. */
static int reply_error_with(RedisModuleCtx *ctx, const char *prefix, RedisModuleString *arg) {
    size_t n;
    const char *p = RM.StringPtrLen(arg, &n);
    size_t pl = strlen(prefix);
    char *msg = malloc(pl + n + 1);
    if (msg == NULL) abort();
    memcpy(msg, prefix, pl);
    memcpy(msg + pl, p, n);
    msg[pl + n] = 0;
    RM.ReplyWithError(ctx, msg);
    free(msg);
    return RM_OK;
}

/* Reads the script at argv[1]: NULL after replying the front's error. */
static int script_open(RedisModuleCtx *ctx, RedisModuleString *keyname, struct srecord *r) {
    RedisModuleKey *key = RM.OpenKey(ctx, keyname, RM_READ);
    const char *bad = srecord_read(key, r);
    RM.CloseKey(key);
    if (bad != NULL) {
        srecord_free(ctx, r);
        RM.ReplyWithError(ctx, bad);
        return -1;
    }
    return 0;
}

static int script_store_done(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

/* The common part of AI.SCRIPTSET and AI.SCRIPTSTORE once parsed: entry points at argv[ep_at..ep_at+nep). */
static int script_store(RedisModuleCtx *ctx, RedisModuleString **argv, RedisModuleString *tag, int ep_at, long long nep,
                        RedisModuleString *source) {
    if (!valid_device(argv[2])) return RM.ReplyWithError(ctx, "ERR Invalid DEVICE");
    if (!backend_loaded("TORCH")) return reply_backend_not_loaded(ctx, "TORCH");
    if (server_socket == NULL) return no_server(ctx);
    if (cannot_block(ctx, argv)) return RM_OK;
    struct job *j = calloc(1, sizeof *j);
    if (j == NULL) abort();
    j->kind = JOB_SCRIPT_STORE;
    new_id(j->id);
    size_t n;
    const char *p = RM.StringPtrLen(argv[2], &n);
    snprintf(j->device, sizeof j->device, "%.*s", (int)n, p);
    frame_begin(&j->req, JOB_SCRIPT_STORE);
    buf_bytes(&j->req, j->id, strlen(j->id));
    buf_bytes(&j->req, p, n);
    buf_u32(&j->req, (uint32_t)nep);
    for (long long k = 0; k < nep; k++) {
        p = RM.StringPtrLen(argv[ep_at + k], &n);
        buf_bytes(&j->req, p, n);
        uint32_t l = (uint32_t)n;
        buf_put(&j->innames, &l, 4);
        buf_put(&j->innames, p, n);
    }
    p = RM.StringPtrLen(source, &n);
    buf_u32(&j->req, (uint32_t)n);
    j->blob_at = j->req.len;
    j->blob_len = n;
    buf_put(&j->req, p, n);
    frame_end(&j->req);
    j->key = copy_arg(argv[1], &j->keylen);
    if (tag) j->tag = copy_arg(tag, &j->taglen);
    else {
        j->tag = malloc(1);
        if (j->tag == NULL) abort();
        j->taglen = 0;
    }
    j->bc = RM.BlockClient(ctx, script_store_done, NULL, free_privdata, 0);
    enqueue(j);
    return RM_OK;
}

/* On the main thread once the model server compiled the script: stores the front's hash (DEL + HSET, replicated as
 * such), unless the key holds something else than a script. */
static int script_store_done(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    struct job *j = RM.GetBlockedClientPrivateData(ctx);
    if (reply_failure(ctx, j)) return RM_OK;
    RedisModuleString *name = RM.CreateString(ctx, j->key, j->keylen);
    RedisModuleKey *key = RM.OpenKey(ctx, name, RM_READ | RM_WRITE);
    if (RM.KeyType(key) != RM_KEYTYPE_EMPTY) {
        struct srecord old;
        const char *bad = srecord_read(key, &old);
        if (bad != NULL) {
            srecord_free(ctx, &old);
            RM.CloseKey(key);
            RM.FreeString(ctx, name);
            queue_drop(j->id, strlen(j->id));
            return RM.ReplyWithError(ctx, WRONGTYPE);
        }
        size_t n;
        const char *oid = RM.StringPtrLen(old.id, &n);
        queue_drop(oid, n);
        srecord_free(ctx, &old);
        RM.DeleteKey(key);
    }
    RedisModuleString *v[6];
    v[0] = RM.CreateString(ctx, SCRIPT_MARK, strlen(SCRIPT_MARK));
    v[1] = RM.CreateString(ctx, j->id, strlen(j->id));
    v[2] = RM.CreateString(ctx, j->device, strlen(j->device));
    v[3] = RM.CreateString(ctx, j->tag, j->taglen);
    v[4] = RM.CreateString(ctx, j->innames.p ? j->innames.p : "", j->innames.len);
    v[5] = RM.CreateString(ctx, j->req.p + j->blob_at, j->blob_len);
    RM.HashSet(key, RM_HASH_CFIELDS, "type", v[0], "id", v[1], "device", v[2], "tag", v[3], "entrypoints", v[4],
               "source", v[5], NULL);
    RM.CloseKey(key);
    RM.Replicate(ctx, "DEL", "s", name);
    RM.Replicate(ctx, "HSET", "scscscscscscs", name, "type", v[0], "id", v[1], "device", v[2], "tag", v[3],
                 "entrypoints", v[4], "source", v[5]);
    RM.NotifyKeyspaceEvent(ctx, 1 << 4 /* hash */, "hset", name);
    stats_remove(j->key, j->keylen);
    stats_get(j->key, j->keylen);
    for (int k = 0; k < 6; k++) RM.FreeString(ctx, v[k]);
    RM.FreeString(ctx, name);
    return RM.ReplyWithSimpleString(ctx, "OK");
}

/* AI.SCRIPTSET key device [TAG tag] SOURCE text: the deprecated form SmartRedis sends. */
static int cmd_scriptset(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 5 && argc != 7) return reply_wrong_arity(ctx, argv);
    int i = 3;
    RedisModuleString *tag = NULL;
    if (arg_is(argv[i], "TAG")) {
        tag = argv[i + 1];
        i += 2;
    }
    if (i >= argc || !arg_is(argv[i], "SOURCE") || i + 1 >= argc)
        return RM.ReplyWithError(ctx, "ERR Insufficient arguments, missing script SOURCE");
    return script_store(ctx, argv, tag, 0, 0, argv[i + 1]);
}

/* AI.SCRIPTSTORE key device [TAG tag] ENTRY_POINTS n fn... SOURCE text (RedisAI 1.2.7). */
static int cmd_scriptstore(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 7) return reply_wrong_arity(ctx, argv);
    int i = 3;
    RedisModuleString *tag = NULL;
    if (arg_is(argv[i], "TAG")) {
        tag = argv[i + 1];
        i += 2;
    }
    if (i >= argc || !arg_is(argv[i], "ENTRY_POINTS"))
        return RM.ReplyWithError(ctx, "ERR Insufficient arguments, missing script entry points");
    long long n;
    if (i + 1 >= argc || arg_long(argv[i + 1], &n) != 0) n = -1;
    if (n <= 0 || i + 2 + n > argc) return RM.ReplyWithError(ctx, "ERR Non-valid number of entry points");
    int ep_at = i + 2;
    i += 2 + (int)n;
    if (i + 1 >= argc || !arg_is(argv[i], "SOURCE"))
        return RM.ReplyWithError(ctx, "ERR Insufficient arguments, missing script SOURCE");
    return script_store(ctx, argv, tag, ep_at, n, argv[i + 1]);
}

/* AI.SCRIPTGET key [META] [SOURCE]: SOURCE alone is the bare source, as SmartRedis reads it. */
static int cmd_scriptget(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 2 || argc > 4) return reply_wrong_arity(ctx, argv);
    struct srecord r;
    if (script_open(ctx, argv[1], &r) != 0) return RM_OK;
    int meta = argc == 2, source = argc == 2;
    for (int i = 2; i < argc; i++) {
        if (arg_is(argv[i], "META")) meta = 1;
        else if (arg_is(argv[i], "SOURCE")) source = 1;
        else {
            srecord_free(ctx, &r);
            return reply_error_with(ctx, "ERR unrecognized parameter ", argv[i]);
        }
    }
    RedisModuleString *text = NULL;
    if (source) {
        RedisModuleKey *key = RM.OpenKey(ctx, argv[1], RM_READ);
        RM.HashGet(key, RM_HASH_CFIELDS, "source", &text, NULL);
        RM.CloseKey(key);
        if (text == NULL) {
            srecord_free(ctx, &r);
            return RM.ReplyWithError(ctx, SCRIPT_EMPTY);
        }
    }
    if (!meta) {
        reply_str_field(ctx, text);
    } else {
        RM.ReplyWithArray(ctx, source ? 8 : 6);
        RM.ReplyWithCString(ctx, "device");
        reply_str_field(ctx, r.device);
        RM.ReplyWithCString(ctx, "tag");
        reply_str_field(ctx, r.tag);
        RM.ReplyWithCString(ctx, "entry_points");
        reply_names(ctx, r.entrypoints);
        if (source) {
            RM.ReplyWithCString(ctx, "source");
            reply_str_field(ctx, text);
        }
    }
    if (text) RM.FreeString(ctx, text);
    srecord_free(ctx, &r);
    return RM_OK;
}

/* AI.SCRIPTDEL key */
static int cmd_scriptdel(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return reply_wrong_arity(ctx, argv);
    struct srecord r;
    if (script_open(ctx, argv[1], &r) != 0) return RM_OK;
    size_t n;
    const char *id = RM.StringPtrLen(r.id, &n);
    queue_drop(id, n);
    srecord_free(ctx, &r);
    RedisModuleKey *key = RM.OpenKey(ctx, argv[1], RM_READ | RM_WRITE);
    RM.DeleteKey(key);
    RM.CloseKey(key);
    const char *kp = RM.StringPtrLen(argv[1], &n);
    stats_remove(kp, n);
    RM.Replicate(ctx, "DEL", "s", argv[1]);
    RM.NotifyKeyspaceEvent(ctx, 1 << 2 /* generic */, "del", argv[1]);
    return RM.ReplyWithSimpleString(ctx, "OK");
}

/* The front's function(): the name at argv[2], unless it is a keyword. */
static int script_function(RedisModuleCtx *ctx, RedisModuleString *arg) {
    if (arg_is(arg, "TIMEOUT") || arg_is(arg, "INPUTS") || arg_is(arg, "OUTPUTS")) {
        RM.ReplyWithError(ctx, "ERR function name not specified");
        return -1;
    }
    return 0;
}

/* The front's AiCommands.timeout(): the value at argv[i], or -1 after replying. */
static long long script_timeout(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, int i) {
    long long ms;
    if (i >= argc) {
        RM.ReplyWithError(ctx, "ERR No value provided for TIMEOUT");
        return -1;
    }
    if (arg_long(argv[i], &ms) != 0 || ms <= 0) {
        RM.ReplyWithError(ctx, "ERR Invalid value for TIMEOUT");
        return -1;
    }
    return ms;
}

/* Appends the tensor at key name to the request: 0, or -1 after replying (the front's texts). */
static int put_tensor(RedisModuleCtx *ctx, RedisModuleString *name, struct buf *req) {
    RedisModuleKey *key = RM.OpenKey(ctx, name, RM_READ);
    int type = RM.KeyType(key);
    size_t vlen = 0, dlen;
    const char *v = type == RM_KEYTYPE_STRING ? RM.StringDMA(key, &vlen, RM_READ) : NULL;
    const struct dtype *t;
    int nd;
    const char *dims, *data;
    if (v == NULL || decode(v, vlen, &t, &nd, &dims, &data, &dlen) != 0) {
        RM.CloseKey(key);
        RM.ReplyWithError(ctx, type == RM_KEYTYPE_EMPTY ? TENSOR_EMPTY : WRONGTYPE);
        return -1;
    }
    buf_bytes(req, v, vlen);
    RM.CloseKey(key);
    return 0;
}

/* A script run's job once parsed and its inputs read into j->req: the output keys, then the client blocks. */
static int script_run_queue(RedisModuleCtx *ctx, RedisModuleString **argv, struct job *j, RedisModuleString **outs,
                            int nout) {
    frame_end(&j->req);
    j->key = copy_arg(argv[1], &j->keylen);
    j->nout = nout;
    j->okeys = calloc((size_t)(nout ? nout : 1), sizeof *j->okeys);
    j->okeylens = calloc((size_t)(nout ? nout : 1), sizeof *j->okeylens);
    if (j->okeys == NULL || j->okeylens == NULL) abort();
    for (int k = 0; k < nout; k++) j->okeys[k] = copy_arg(outs[k], &j->okeylens[k]);
    j->bc = RM.BlockClient(ctx, run_done, NULL, free_privdata, 0);
    enqueue(j);
    return RM_OK;
}

/* The start of a script run request: 'X' id fn timeout nout nargs. */
static struct job *script_job(struct srecord *r, RedisModuleString *fn, long long timeout, int nout, int nargs) {
    struct job *j = calloc(1, sizeof *j);
    if (j == NULL) abort();
    j->kind = JOB_SCRIPT_RUN;
    size_t n;
    const char *p = RM.StringPtrLen(r->id, &n);
    snprintf(j->id, sizeof j->id, "%.*s", (int)(n > 39 ? 39 : n), p);
    frame_begin(&j->req, JOB_SCRIPT_RUN);
    buf_bytes(&j->req, j->id, strlen(j->id));
    p = RM.StringPtrLen(fn, &n);
    buf_bytes(&j->req, p, n);
    buf_u32(&j->req, (uint32_t)(timeout > UINT32_MAX ? UINT32_MAX : timeout));
    buf_u32(&j->req, (uint32_t)nout);
    buf_u32(&j->req, (uint32_t)nargs);
    return j;
}

/* Checks common to both run commands after parsing: 0, or 1 after replying. */
static int script_run_refused(RedisModuleCtx *ctx, RedisModuleString **argv, int nout) {
    if (nout > 256) {
        RM.ReplyWithError(ctx, "ERR a script run writes at most 256 outputs");
        return 1;
    }
    if (!backend_loaded("TORCH")) {
        reply_backend_not_loaded(ctx, "TORCH");
        return 1;
    }
    if (server_socket == NULL) {
        no_server(ctx);
        return 1;
    }
    return cannot_block(ctx, argv);
}

/* AI.SCRIPTRUN key fn INPUTS i... [$ i...] OUTPUTS o... [TIMEOUT ms]: the deprecated form SmartRedis sends. Each input
 * is one tensor argument; those after $ go together as one List[Tensor]. */
static int cmd_scriptrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (RM.IsKeysPositionRequest(ctx)) {
        keys_scriptrun(ctx, argv, argc);
        return RM_OK;
    }
    if (argc < 3) return RM.ReplyWithError(ctx, "ERR wrong number of arguments for 'AI.SCRIPTRUN' command");
    struct srecord r;
    if (script_open(ctx, argv[1], &r) != 0) return RM_OK;
    int rc = RM_OK;
    RedisModuleString **ins = calloc((size_t)argc, sizeof *ins), **outs = calloc((size_t)argc, sizeof *outs);
    if (ins == NULL || outs == NULL) abort();
    int nin = 0, nout = 0, is_in = 0, is_out = 0, inputs_done = 0, variadic = -1;
    long long timeout = 0;
    const char *err = NULL;
    if (script_function(ctx, argv[2]) != 0) goto done;
    for (int i = 3; i < argc && err == NULL; i++) {
        if (arg_is(argv[i], "TIMEOUT")) {
            if (timeout != 0) {
                err = "ERR Already encountered an TIMEOUT section in SCRIPTRUN";
                break;
            }
            timeout = script_timeout(ctx, argv, argc, ++i);
            if (timeout < 0) goto done;
        } else if (arg_is(argv[i], "INPUTS")) {
            if (inputs_done) err = "ERR Already encountered an INPUTS section in SCRIPTRUN";
            else if (is_in) err = "ERR Already encountered an INPUTS keyword in SCRIPTRUN";
            is_in = 1;
            is_out = 0;
        } else if (arg_is(argv[i], "OUTPUTS")) {
            if (is_out) err = "ERR Already encountered an OUTPUTS keyword in SCRIPTRUN";
            is_in = 0;
            is_out = 1;
            inputs_done = 1;
        } else if (str_is(argv[i], "$")) {
            if (!is_in) err = "ERR Encountered a variable size list of tensors outside of input section";
            else if (variadic >= 0) err = "ERR Already encountered a variable size list of tensors";
            variadic = nin;
        } else if (is_in) {
            ins[nin++] = argv[i];
        } else if (is_out) {
            outs[nout++] = argv[i];
        } else {
            err = "ERR Unrecongnized parameter to SCRIPTRUN"; /* sic, RedisAI's text */
        }
    }
    if (err != NULL) {
        RM.ReplyWithError(ctx, err);
        goto done;
    }
    int fixed = variadic < 0 ? nin : variadic;
    struct job *j = script_job(&r, argv[2], timeout, nout, fixed + (variadic >= 0));
    for (int k = 0; k < nin; k++) {
        if (k < fixed) buf_u8(&j->req, 'T');
        else if (k == fixed) {
            buf_u8(&j->req, 'L');
            buf_u32(&j->req, (uint32_t)(nin - fixed));
        }
        if (put_tensor(ctx, ins[k], &j->req) != 0) {
            job_free(j);
            goto done;
        }
    }
    if (variadic >= 0 && variadic == nin) {
        buf_u8(&j->req, 'L');
        buf_u32(&j->req, 0);
    }
    if (script_run_refused(ctx, argv, nout)) {
        job_free(j);
        goto done;
    }
    rc = script_run_queue(ctx, argv, j, outs, nout);
done:
    free(ins);
    free(outs);
    srecord_free(ctx, &r);
    return rc;
}

/* AI.SCRIPTEXECUTE key fn [KEYS n k...] [INPUTS n i...] [ARGS n a...] [OUTPUTS n o...] [TIMEOUT ms] (RedisAI 1.2.7):
 * fn(tensors: List[Tensor], keys: List[str], args: List[str]). */
static int cmd_scriptexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (RM.IsKeysPositionRequest(ctx)) {
        keys_scriptexecute(ctx, argv, argc);
        return RM_OK;
    }
    if (argc < 3) return RM.ReplyWithError(ctx, "ERR wrong number of arguments for 'AI.SCRIPTEXECUTE' command");
    struct srecord r;
    if (script_open(ctx, argv[1], &r) != 0) return RM_OK;
    if (script_function(ctx, argv[2]) != 0) {
        srecord_free(ctx, &r);
        return RM_OK;
    }
    static const char *WORDS[] = {"KEYS", "INPUTS", "ARGS", "OUTPUTS"};
    static const char *WHAT[] = {"key", "input", "arg", "output"};
    int at[4] = {-1, -1, -1, -1};
    long long count[4] = {0, 0, 0, 0};
    long long timeout = 0;
    char msg[160];
    int i = 3;
    while (i < argc) {
        if (arg_is(argv[i], "TIMEOUT")) {
            timeout = script_timeout(ctx, argv, argc, i + 1);
            if (timeout < 0) goto fail;
            if (i + 2 != argc) {
                RM.ReplyWithError(ctx, "ERR Encountered problem parsing AI.SCRIPTEXECUTE");
                goto fail;
            }
            break;
        }
        int w = -1;
        for (int k = 0; k < 4; k++)
            if (arg_is(argv[i], WORDS[k])) w = k;
        if (w < 0) {
            RM.ReplyWithError(ctx, "ERR Unrecongnized parameter to AI.SCRIPTEXECUTE"); /* sic */
            goto fail;
        }
        if (at[w] >= 0) {
            snprintf(msg, sizeof msg, "ERR Already Encountered %s scope in AI.SCRIPTEXECUTE command", WORDS[w]);
            RM.ReplyWithError(ctx, msg);
            goto fail;
        }
        long long n;
        if (i + 1 >= argc || arg_long(argv[i + 1], &n) != 0) {
            snprintf(msg, sizeof msg, "ERR Invalid argument for %s count in AI.SCRIPTEXECUTE", WHAT[w]);
            RM.ReplyWithError(ctx, msg);
            goto fail;
        }
        if (n < 0 || i + 2 + n > argc) {
            snprintf(msg, sizeof msg,
                     "ERR number of %ss to AI.SCRIPTEXECUTE command does not match the number of given arguments",
                     WHAT[w]);
            RM.ReplyWithError(ctx, msg);
            goto fail;
        }
        at[w] = i + 2;
        count[w] = n;
        i += 2 + (int)n;
    }
    struct job *j = script_job(&r, argv[2], timeout, (int)count[3], 3);
    buf_u8(&j->req, 'L');
    buf_u32(&j->req, (uint32_t)count[1]);
    for (long long k = 0; k < count[1]; k++) {
        if (put_tensor(ctx, argv[at[1] + k], &j->req) != 0) {
            job_free(j);
            goto fail;
        }
    }
    for (int w = 0; w <= 2; w += 2) { /* KEYS, then ARGS, as List[str] */
        buf_u8(&j->req, 'S');
        buf_u32(&j->req, (uint32_t)count[w]);
        for (long long k = 0; k < count[w]; k++) {
            size_t n;
            const char *p = RM.StringPtrLen(argv[at[w] + k], &n);
            buf_bytes(&j->req, p, n);
        }
    }
    if (script_run_refused(ctx, argv, (int)count[3])) {
        job_free(j);
        goto fail;
    }
    srecord_free(ctx, &r);
    return script_run_queue(ctx, argv, j, count[3] ? argv + at[3] : argv, (int)count[3]);
fail:
    srecord_free(ctx, &r);
    return RM_OK;
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
        API(HashSet), API(HashGet), API(DeleteKey), API(ReplyWithNull), API(Replicate), API(GetContextFlags),
        API(BlockClient), API(UnblockClient), API(GetBlockedClientPrivateData), API(GetThreadSafeContext),
        API(FreeThreadSafeContext), API(ThreadSafeContextLock), API(ThreadSafeContextUnlock),
        API(StringAppendBuffer), API(GetClientId), API(GetClientInfoById),
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
    {"AI.MODELSTORE", cmd_modelstore, "write deny-oom", 1, 1, 1},
    {"AI.MODELGET", cmd_modelget, "readonly", 1, 1, 1},
    {"AI.MODELDEL", cmd_modeldel, "write", 1, 1, 1},
    {"AI.MODELEXECUTE", cmd_modelexecute, "write deny-oom getkeys-api", 1, 1, 1},
    {"AI.SCRIPTSET", cmd_scriptset, "write deny-oom", 1, 1, 1},
    {"AI.SCRIPTSTORE", cmd_scriptstore, "write deny-oom", 1, 1, 1},
    {"AI.SCRIPTGET", cmd_scriptget, "readonly", 1, 1, 1},
    {"AI.SCRIPTDEL", cmd_scriptdel, "write", 1, 1, 1},
    {"AI.SCRIPTRUN", cmd_scriptrun, "write deny-oom getkeys-api", 1, 1, 1},
    {"AI.SCRIPTEXECUTE", cmd_scriptexecute, "write deny-oom getkeys-api", 1, 1, 1},
    /* AI.INFO [key [RESETSTAT]]: keyed when a key is given (Redis finds none past argc). */
    {"AI.INFO", cmd_info, "readonly", 1, 1, 1},
    {"AI.CONFIG", cmd_config, "readonly", 0, 0, 0},
    /* AI._LIST [COUNT n]: the model and script keys with counters here (telemetry); no keys, so any shard answers. */
    {"AI._LIST", cmd_list, "readonly", 0, 0, 0},
};

/* loadmodule smartsim-ai.so [SOCKET <path>] [BACKENDS ONNX,TORCH,...] [WORKERS n]: the model server's socket, the
 * backends it was started with (any other backend answers "ERR Backend not loaded: <NAME>" at once), and how many
 * requests may be at the model server at once (worker threads, each with its own connection; default 4). */
static int parse_args(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    for (int i = 0; i < argc; i++) {
        if (i + 1 >= argc) {
            RM.Log(ctx, "warning", "smartsim-ai: module argument %d needs a value (SOCKET <path>, BACKENDS <list>, WORKERS <n>)", i);
            return RM_ERR;
        }
        size_t n;
        const char *v = RM.StringPtrLen(argv[i + 1], &n);
        if (arg_is(argv[i], "SOCKET")) {
            free(server_socket);
            server_socket = malloc(n + 1);
            memcpy(server_socket, v, n);
            server_socket[n] = 0;
        } else if (arg_is(argv[i], "WORKERS")) {
            if (arg_long(argv[i + 1], &workers) != 0 || workers < 1 || workers > MAX_WORKERS) {
                RM.Log(ctx, "warning", "smartsim-ai: WORKERS must be a number from 1 to %d", MAX_WORKERS);
                return RM_ERR;
            }
        } else if (arg_is(argv[i], "BACKENDS")) {
            if (n + 3 > sizeof loaded_backends) {
                RM.Log(ctx, "warning", "smartsim-ai: BACKENDS is too long");
                return RM_ERR;
            }
            loaded_backends[0] = ',';
            for (size_t k = 0; k < n; k++)
                loaded_backends[k + 1] = (char)(v[k] >= 'a' && v[k] <= 'z' ? v[k] - 'a' + 'A' : v[k]);
            loaded_backends[n + 1] = ',';
            loaded_backends[n + 2] = 0;
            char copy[sizeof loaded_backends];
            memcpy(copy, loaded_backends, sizeof copy);
            char *save = NULL;
            for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
                int known = 0;
                for (size_t k = 0; k < sizeof KNOWN_BACKENDS / sizeof *KNOWN_BACKENDS; k++)
                    known |= strcmp(name, KNOWN_BACKENDS[k]) == 0;
                if (!known) {
                    RM.Log(ctx, "warning", "smartsim-ai: BACKENDS names %s; known: TF, TFLITE, TORCH, ONNX", name);
                    return RM_ERR;
                }
            }
        } else {
            RM.Log(ctx, "warning", "smartsim-ai: unknown module argument %s (known: SOCKET <path>, BACKENDS <list>, WORKERS <n>)",
                   RM.StringPtrLen(argv[i], &n));
            return RM_ERR;
        }
        i++;
    }
    return RM_OK;
}

__attribute__((visibility("default"))) int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (load_api(ctx) != RM_OK) return RM_ERR;
    if (RM.IsModuleNameBusy != NULL && RM.IsModuleNameBusy("ai")) {
        RM.Log(ctx, "warning", "a module named 'ai' (RedisAI?) is already loaded");
        return RM_ERR;
    }
    if (parse_args(ctx, argv, argc) != RM_OK) return RM_ERR;
    RM.SetModuleAttribs(ctx, "ai", 1, RM_APIVER_1);
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++) {
        const struct command *c = &COMMANDS[i];
        if (RM.CreateCommand(ctx, c->name, c->fn, c->flags, c->first, c->last, c->step) != RM_OK) {
            RM.Log(ctx, "warning", "cannot register %s (is another module serving it?)", c->name);
            return RM_ERR;
        }
    }
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, &id_seed, sizeof id_seed) != (ssize_t)sizeof id_seed) id_seed = (unsigned long long)getpid();
    if (fd >= 0) close(fd);
    for (long long w = 0; w < workers; w++) {
        pthread_t t;
        struct worker_slot *slot = calloc(1, sizeof *slot); /* lives as long as its thread: the server's life */
        if (slot != NULL) {
            slot->fd = -2; /* not started: no "returning" to count down */
            slot->wake = eventfd(0, EFD_CLOEXEC);
        }
        if (slot == NULL || slot->wake < 0 || pthread_create(&t, NULL, worker, slot) != 0) {
            RM.Log(ctx, "warning", "smartsim-ai: cannot start the model server threads");
            return RM_ERR;
        }
        pthread_detach(t);
    }
    RM.Log(ctx, "notice", "smartsim-ai: %d AI commands registered; tensors served here, models on the model server at %s "
                          "(backends %s, %lld connections)", (int)(sizeof COMMANDS / sizeof COMMANDS[0]),
           server_socket ? server_socket : "(no SOCKET given)", loaded_backends[0] ? loaded_backends : "none", workers);
    return RM_OK;
}
