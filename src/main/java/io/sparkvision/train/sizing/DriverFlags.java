package io.sparkvision.train.sizing;

import io.sparkvision.config.Launcher;
import org.bytedeco.javacpp.Pointer;

import java.util.ArrayList;
import java.util.List;

import static io.sparkvision.train.sizing.MemoryLimits.gigabytes;

/**
 * The driver JVM's memory a run needs (0 = keep what it has), written as the launcher that started it takes it, so
 * the printed fix works when pasted: scripts/sparkvision adds {@code SPARKVISION_JAVA_OPTS} to its own flags,
 * scripts/submit adds its {@code --driver-java-options} to its own, and plain spark-submit's
 * {@code --driver-java-options} would replace spark.driver.extraJavaOptions from the properties file (the DL4J
 * flags), so for it the whole value is printed with the limit added.
 */
record DriverFlags(long heap, long offHeap, long physical) {

    static DriverFlags needed(RoundSizing s, MemoryLimits m, boolean heapShort, boolean offHeapShort) {
        long heap = heapShort ? roundUpGiB(s.driverHeap()) : 0;
        long off = offHeapShort ? roundUpGiB(s.driverOffHeap()) : 0;
        // JavaCPP's resident-set limit covers the whole process: raise it with the parts, where one is set.
        long whole = Math.max(heap, m.driverHeap()) + Math.max(off, m.driverOffHeap()) + Launcher.JVM_OVERHEAD;
        long limit = Pointer.maxPhysicalBytes();
        return new DriverFlags(heap, off, limit > 0 && whole > limit ? roundUpGiB(whole) : 0);
    }

    List<String> render(Launcher launcher, String driverJavaOptions) {
        String props = javaProperties();
        List<String> fixes = new ArrayList<>();
        switch (launcher.kind()) {
            case SPARKVISION -> fixes.add("SPARKVISION_JAVA_OPTS=\"$SPARKVISION_JAVA_OPTS " + ((heap > 0 ? "-Xmx" + gigabytes(heap) + " " : "")
                    + props).trim() + "\" (in front of scripts/sparkvision)");
            case SUBMIT -> {
                if (heap > 0) fixes.add("--driver-memory " + gigabytes(heap));
                if (!props.isEmpty()) fixes.add("--driver-java-options \"" + props + "\"");
            }
            case SPARK_SUBMIT -> {
                if (heap > 0) fixes.add("--driver-memory " + gigabytes(heap));
                if (!props.isEmpty()) fixes.add("--conf \"spark.driver.extraJavaOptions=" + (driverJavaOptions.trim() + " " + props).trim() + "\"");
            }
        }
        return fixes;
    }

    private String javaProperties() {
        StringBuilder sb = new StringBuilder();
        if (offHeap > 0) sb.append("-Dorg.bytedeco.javacpp.maxbytes=").append(gigabytes(offHeap).toUpperCase(java.util.Locale.ROOT));
        if (physical > 0) {
            sb.append(sb.isEmpty() ? "" : " ").append("-Dorg.bytedeco.javacpp.maxphysicalbytes=")
                    .append(gigabytes(physical).toUpperCase(java.util.Locale.ROOT));
        }
        return sb.toString();
    }

    static long roundUpGiB(long bytes) {
        return ((bytes + (1L << 30) - 1) >> 30) << 30;
    }
}
