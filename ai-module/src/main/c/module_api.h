/*
 * The part of the Redis Modules API that smartsim-ai uses, declared here from the documented API
 * (https://redis.io/docs/latest/develop/reference/modules/modules-api-ref/): no header of Redis or of
 * another module is used. Only calls that Redis 6.0 already has, so that KeyDB 6.3 and Redis 7.x load the
 * module alike: build.sh checks every call against redis-6.0-api.txt (each function's "Available since" in the
 * reference) and refuses to build otherwise.
 *
 * How a module reaches the API: redis-server calls the exported RedisModule_OnLoad(ctx, argv, argc). The
 * first word of the context it passes is a function, int GetApi(const char *name, void *out), which stores
 * the address of the API function called name (for instance "RedisModule_CreateCommand") in *out and
 * answers 0 (REDISMODULE_OK) if the server has it. The module then announces itself with
 * RedisModule_SetModuleAttribs(ctx, name, version, api_version 1).
 */
#ifndef SMARTSIM_AI_MODULE_API_H
#define SMARTSIM_AI_MODULE_API_H

#include <stddef.h>

#define RM_OK 0
#define RM_ERR 1
#define RM_APIVER_1 1

/* OpenKey modes */
#define RM_READ (1 << 0)
#define RM_WRITE (1 << 1)

/* GetExpire's answer for a key without a time to live; SetExpire with it removes the time to live */
#define RM_NO_EXPIRE (-1LL)

/* KeyType answers */
#define RM_KEYTYPE_EMPTY 0
#define RM_KEYTYPE_STRING 1
#define RM_KEYTYPE_HASH 3

/* HashSet / HashGet flags: fields given as C strings */
#define RM_HASH_CFIELDS (1 << 2)

/* GetContextFlags bits */
#define RM_CTX_FLAGS_LUA (1 << 0)
#define RM_CTX_FLAGS_MULTI (1 << 1)

/* NotifyKeyspaceEvent classes */
#define RM_NOTIFY_STRING (1 << 3)

typedef struct RedisModuleCtx RedisModuleCtx;
typedef struct RedisModuleKey RedisModuleKey;
typedef struct RedisModuleString RedisModuleString;
typedef struct RedisModuleBlockedClient RedisModuleBlockedClient;

typedef int (*RMCommandFn)(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

/* Filled by rm_load_api() from the server's GetApi; each field is named after its API call without the
 * "RedisModule_" prefix. */
struct rm_api {
    void (*SetModuleAttribs)(RedisModuleCtx *ctx, const char *name, int ver, int apiver);
    int (*IsModuleNameBusy)(const char *name);
    int (*CreateCommand)(RedisModuleCtx *ctx, const char *name, RMCommandFn fn, const char *flags,
                         int firstkey, int lastkey, int keystep);
    void (*Log)(RedisModuleCtx *ctx, const char *level, const char *fmt, ...);

    /* argument strings */
    const char *(*StringPtrLen)(const RedisModuleString *str, size_t *len);
    RedisModuleString *(*CreateString)(RedisModuleCtx *ctx, const char *ptr, size_t len);
    void (*FreeString)(RedisModuleCtx *ctx, RedisModuleString *str);

    /* keys */
    RedisModuleKey *(*OpenKey)(RedisModuleCtx *ctx, RedisModuleString *name, int mode);
    void (*CloseKey)(RedisModuleKey *key);
    int (*KeyType)(RedisModuleKey *key);
    size_t (*ValueLength)(RedisModuleKey *key);
    int (*StringSet)(RedisModuleKey *key, RedisModuleString *str);
    /* appends to a string the module may change (an argument of its own command); stored values use this */
    int (*StringAppendBuffer)(RedisModuleCtx *ctx, RedisModuleString *str, const char *buf, size_t len);
    char *(*StringDMA)(RedisModuleKey *key, size_t *len, int mode);
    long long (*GetExpire)(RedisModuleKey *key); /* ms left, or RM_NO_EXPIRE */
    int (*SetExpire)(RedisModuleKey *key, long long ms);

    /* replies */
    int (*ReplyWithError)(RedisModuleCtx *ctx, const char *err);
    int (*ReplyWithSimpleString)(RedisModuleCtx *ctx, const char *msg);
    int (*ReplyWithArray)(RedisModuleCtx *ctx, long len);
    int (*ReplyWithStringBuffer)(RedisModuleCtx *ctx, const char *buf, size_t len);
    int (*ReplyWithCString)(RedisModuleCtx *ctx, const char *buf);
    int (*ReplyWithLongLong)(RedisModuleCtx *ctx, long long ll);

    /* replication, AOF, keyspace events, cluster key positions */
    int (*ReplicateVerbatim)(RedisModuleCtx *ctx);
    int (*NotifyKeyspaceEvent)(RedisModuleCtx *ctx, int type, const char *event, RedisModuleString *key);
    int (*IsKeysPositionRequest)(RedisModuleCtx *ctx);
    void (*KeyAtPos)(RedisModuleCtx *ctx, int pos);

    /* hashes (models are stored as one hash per key) */
    int (*HashSet)(RedisModuleKey *key, int flags, ...);
    int (*HashGet)(RedisModuleKey *key, int flags, ...);
    int (*DeleteKey)(RedisModuleKey *key);
    int (*ReplyWithNull)(RedisModuleCtx *ctx);
    int (*Replicate)(RedisModuleCtx *ctx, const char *cmdname, const char *fmt, ...);
    int (*GetContextFlags)(RedisModuleCtx *ctx);
    /* the calling client's id (0: none), and whether a client of that id is connected (ci NULL: only that) */
    unsigned long long (*GetClientId)(RedisModuleCtx *ctx);
    int (*GetClientInfoById)(void *ci, unsigned long long id);

    /* blocked clients and the model server's thread */
    RedisModuleBlockedClient *(*BlockClient)(RedisModuleCtx *ctx, RMCommandFn reply_callback,
                                             RMCommandFn timeout_callback,
                                             void (*free_privdata)(RedisModuleCtx *, void *), long long timeout_ms);
    int (*UnblockClient)(RedisModuleBlockedClient *bc, void *privdata);
    void *(*GetBlockedClientPrivateData)(RedisModuleCtx *ctx);
    RedisModuleCtx *(*GetThreadSafeContext)(RedisModuleBlockedClient *bc);
    void (*FreeThreadSafeContext)(RedisModuleCtx *ctx);
    void (*ThreadSafeContextLock)(RedisModuleCtx *ctx);
    void (*ThreadSafeContextUnlock)(RedisModuleCtx *ctx);

    /* memory, counted in the server's used_memory */
    void *(*Alloc)(size_t bytes);
    void (*Free)(void *ptr);
};

#endif
