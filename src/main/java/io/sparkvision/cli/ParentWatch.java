package io.sparkvision.cli;

/**
 * Ends this JVM when the launcher script that started it as a child dies (scripts/sparkvision keeps its JVM as a child
 * while the job may still ask to be started again with other memory flags). Without it, {@code kill -9} of the script
 * - what a scheduler or a user does to a stuck run - would leave the driver training on as an orphan. The kernel
 * re-parents an orphan at once, so a changed parent process id is the signal.
 */
final class ParentWatch {
    static final String PROPERTY = "sparkvision.exit-with-parent";

    private ParentWatch() {
    }

    static void startIfAsked() {
        if (!Boolean.getBoolean(PROPERTY)) return;
        long parent = parentPid();
        if (parent <= 1) return;
        Thread t = new Thread(() -> {
            while (true) {
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    return;
                }
                if (parentPid() != parent) {
                    System.err.println("sparkvision: the launcher (pid " + parent + ") is gone; stopping");
                    Runtime.getRuntime().halt(137); // as the kill the launcher got
                }
            }
        }, "sparkvision-parent-watch");
        t.setDaemon(true);
        t.start();
    }

    private static long parentPid() {
        return ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(1L);
    }
}
