package io.sparkvision.config;

import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * Which launcher started this JVM, so that a fix the product prints is one the user can paste into that launcher,
 * and what memory a local run may take. The scripts say it with system properties: {@code scripts/sparkvision} sets
 * {@code sparkvision.launcher=sparkvision}, the machine budget it derived ({@code sparkvision.memory.budget}, bytes)
 * and, unless the user sized the JVM, a file to write a better heap/off-heap split to ({@code sparkvision.resize.file});
 * {@code scripts/submit} sets {@code sparkvision.launcher=submit}; plain spark-submit sets nothing.
 */
public record Launcher(Kind kind, long memoryBudget, String resizeFile) {
    /** Exit status asking scripts/sparkvision to start the job again with the flags written to the resize file. */
    public static final int RESTART_STATUS = 79;
    /** What a local JVM needs beyond its heap and ND4J's arrays (metaspace, code, threads, Spark's direct buffers). */
    public static final long JVM_OVERHEAD = 1L << 30;

    public enum Kind { SPARKVISION, SUBMIT, SPARK_SUBMIT }

    public static Launcher current() {
        String k = System.getProperty("sparkvision.launcher", "").toLowerCase(Locale.ROOT);
        Kind kind = k.equals("sparkvision") ? Kind.SPARKVISION : k.equals("submit") ? Kind.SUBMIT : Kind.SPARK_SUBMIT;
        long budget = Long.getLong("sparkvision.memory.budget", 0L);
        String file = System.getProperty("sparkvision.resize.file", "");
        return new Launcher(kind, budget > 0 ? budget : machineBudget(), file.isBlank() ? null : file);
    }

    /** Whether a run that needs another heap/off-heap split may ask the launcher for a re-start with it. */
    public boolean canRestart() {
        return kind == Kind.SPARKVISION && resizeFile != null;
    }

    /** Physical memory less what the OS needs (10%, at least 1 GiB): what scripts/sparkvision gives a local JVM. */
    static long machineBudget() {
        long total = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
        return total - Math.max(1L << 30, total / 10);
    }

    /** A thrown request for scripts/sparkvision to start the job again with other memory flags (already written). */
    public static final class Restart extends RuntimeException {
        public Restart(String message) {
            super(message);
        }
    }
}
