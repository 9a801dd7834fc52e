package io.smartsim.launch.testing;

import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The test class uses a shared testbed: for the class's whole run it holds that testbed's lock, which every test JVM
 * on this machine (every module of a parallel build, every worktree) takes before it uses the testbed. Two JVMs never
 * use one testbed at once: Slurm jobs of one would stay PENDING (Resources) behind the other's, an ssh test that cuts
 * sshd would cut the other's sessions.
 *
 * <pre>{@code
 * @TestbedLock(TestbedLock.Bed.SLURM)
 * @TestbedLock(value = TestbedLock.Bed.SSH, shared = true)   // uses sshd, never stops it nor drops its sessions
 * class RemoteSlurmResumeIT { ... }
 * }</pre>
 *
 * <p>The lock is a POSIX record lock on {@code /run/lock/smartsim-testbeds/BED.lock} ({@link TestbedLocks}): the
 * kernel releases it when the JVM ends, however it ends. A JVM that has to wait prints that it waits and for whom.
 * Waiting happens before the class's first test and lifecycle method, so it never counts against their time bounds;
 * the wait itself is bounded ({@link TestbedLocks#MAX_WAIT}).
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Repeatable(TestbedLock.List.class)
@ExtendWith(TestbedLocks.class)
public @interface TestbedLock {
    /** The shared testbeds of this machine. Locks are always taken in this order, so two classes never deadlock. */
    enum Bed {
        /** The 3-node Slurm testbed ({@code testbeds/slurm}); the PBS testbed's Torque wrappers run on it too. */
        SLURM,
        /** The PBS testbed's own parts ({@code testbeds/pbs}: the nodes' sshd on port 22022). */
        PBS,
        /** The loopback sshd on port 2222 ({@code testbeds/ssh}). */
        SSH,
        /** The container testbed's dockerd ({@code testbeds/containers}). */
        CONTAINERS;

        /** The lower-case name the lock file and the messages use. */
        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    Bed value();

    /**
     * Whether other classes may use the testbed at the same time, each also with {@code shared = true}: only for a
     * class that neither stops, restarts nor reconfigures the testbed, nor needs all of its capacity. A class that
     * does (cuts sshd, drops its sessions, holds every Slurm node) keeps the default, exclusive.
     */
    boolean shared() default false;

    /** The container of repeated {@link TestbedLock}s. */
    @Documented
    @Inherited
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.TYPE)
    @ExtendWith(TestbedLocks.class)
    @interface List {
        TestbedLock[] value();
    }
}
