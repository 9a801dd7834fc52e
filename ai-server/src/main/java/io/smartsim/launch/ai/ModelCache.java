package io.smartsim.launch.ai;

import io.smartsim.launch.ai.spi.LoadedModel;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The front's loaded models, by key. An entry is valid while the stored model's id matches ({@link ModelRecord#id});
 * a model stored again, deleted, or renamed behind the front's back is noticed at its next run. Replaced models are
 * closed once no run uses them.
 */
final class ModelCache {
    /** A byte-array key with value equality: keys are arbitrary bytes (cluster prefixes are binary). */
    record Key(byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(k.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }

    /** A loaded model with a use count, closed when retired and unused. */
    static final class Entry {
        final String id;
        final ModelRecord record;
        final LoadedModel model;
        private int users;
        private boolean retired;

        Entry(String id, ModelRecord record, LoadedModel model) {
            this.id = id;
            this.record = record;
            this.model = model;
        }

        synchronized boolean acquire() {
            if (retired) {
                return false;
            }
            users++;
            return true;
        }

        void release() {
            boolean close;
            synchronized (this) {
                users--;
                close = retired && users == 0;
            }
            if (close) {
                model.close();
            }
        }

        void retire() {
            boolean close;
            synchronized (this) {
                if (retired) {
                    return;
                }
                retired = true;
                close = users == 0;
            }
            if (close) {
                model.close();
            }
        }
    }

    private final ConcurrentHashMap<Key, Entry> entries = new ConcurrentHashMap<>();

    /** The entry for {@code key} if its id is {@code id}, acquired; the caller releases it. */
    Entry acquire(byte[] key, String id) {
        Entry e = entries.get(new Key(key));
        if (e != null && e.id.equals(id) && e.acquire()) {
            return e;
        }
        return null;
    }

    /** Puts a freshly loaded model in place of whatever was there (which is retired), and returns it acquired. */
    Entry put(byte[] key, Entry e) {
        e.acquire();
        Entry old = entries.put(new Key(key), e);
        if (old != null && old != e) {
            old.retire();
        }
        return e;
    }

    void remove(byte[] key) {
        Entry old = entries.remove(new Key(key));
        if (old != null) {
            old.retire();
        }
    }

    void closeAll() {
        entries.values().forEach(Entry::retire);
        entries.clear();
    }
}
