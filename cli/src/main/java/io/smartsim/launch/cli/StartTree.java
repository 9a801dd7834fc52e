package io.smartsim.launch.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/**
 * The command tree {@code db start} runs in: {@code smartsim-launch db start}, the same commands under the same names
 * as in {@link Main}'s tree, without the models of every other command. picocli reads each command's annotations by
 * reflection before parsing anything; for the whole tree that is 75-100 ms of CPU time beyond picocli's own start,
 * all of it before the first server is spawned. Used only when the arguments begin with {@code db start} (then no
 * other command can be meant); StartTreeTest checks the two trees answer alike.
 */
@Command(name = "smartsim-launch", subcommands = StartTree.Db.class)
final class StartTree implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new IllegalStateException("only 'db start' runs in this tree");
    }

    @Command(name = "db", subcommands = DbStartCommand.class)
    static final class Db implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new IllegalStateException("only 'db start' runs in this tree");
        }
    }
}
