package io.sparkvision.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The JVM flags of conf/jvm-flags.properties (their one source; the build copies the file into the jar), for the
 * JVMs the product configures itself: Spark executors.
 */
public final class JvmFlags {
    public static final String RESOURCE = "/jvm-flags.properties";
    private static final Properties FLAGS = load();

    /** Drivers and executors: oneDNN helpers on, the Aeron timeout gradient sharing needs, headless. */
    public static final String DL4J = get("dl4j.flags");
    /** Executors: G1 regions that hold Spark's result chunks and broadcast pieces without waste. */
    public static final String G1 = get("g1.flags");
    /** What executors get unless the job sets spark.executor.extraJavaOptions (Spark adds its --add-opens itself). */
    public static final String EXECUTOR = DL4J + " " + G1;

    private JvmFlags() {
    }

    private static Properties load() {
        try (InputStream in = JvmFlags.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException(RESOURCE + " is not on the classpath; rebuild (mvn process-resources)");
            Properties p = new Properties();
            p.load(in);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    private static String get(String key) {
        String v = FLAGS.getProperty(key);
        if (v == null || v.isBlank()) throw new IllegalStateException(RESOURCE + " has no " + key);
        return v.trim();
    }
}
