package io.smartsim.launch.ai;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The front's loaded models (or scripts), by key. An entry is valid while the stored record's id matches
 * ({@link ModelRecord#id}, {@link ScriptRecord#id}); one stored again, deleted, or renamed behind the front's back is
 * noticed at its next run. Replaced entries are closed once no run uses them.
 */
final class ModelCache<V extends AutoCloseable> {
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
    static final class Entry<V extends AutoCloseable> {
        final String id;
        final V model;
        private int users;
        private boolean retired;

        Entry(String id, V model) {
            this.id = id;
            this.model = model;
        }

        private void closeModel() {
            try {
                model.close();
            } catch (Exception e) {
                // closing a runtime's model frees memory; there is nobody to tell
            }
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
                closeModel();
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
                closeModel();
            }
        }
    }

    private final ConcurrentHashMap<Key, Entry<V>> entries = new ConcurrentHashMap<>();

    /** The entry for {@code key} if its id is {@code id}, acquired; the caller releases it. */
    Entry<V> acquire(byte[] key, String id) {
        Entry<V> e = entries.get(new Key(key));
        if (e != null && e.id.equals(id) && e.acquire()) {
            return e;
        }
        return null;
    }

    /** Puts a freshly loaded model in place of whatever was there (which is retired), and returns it acquired. */
    Entry<V> put(byte[] key, Entry<V> e) {
        e.acquire();
        Entry<V> old = entries.put(new Key(key), e);
        if (old != null && old != e) {
            old.retire();
        }
        return e;
    }

    void remove(byte[] key) {
        Entry<V> old = entries.remove(new Key(key));
        if (old != null) {
            old.retire();
        }
    }

    void closeAll() {
        entries.values().forEach(Entry::retire);
        entries.clear();
    }
}
