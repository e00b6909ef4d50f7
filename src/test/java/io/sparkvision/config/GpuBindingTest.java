package io.sparkvision.config;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The binding decision: which GPU a task uses, or which setting to fix. */
class GpuBindingTest {
    private static final String[] NONE = new String[0];

    @Test
    void cpuWithoutGpusIsANoOp() {
        assertEquals(-1, GpuBinding.device(false, false, NONE, "1"));
        assertEquals(-1, GpuBinding.device(false, true, NONE, "driver"));
        assertEquals(-1, GpuBinding.bindThisTask(), "outside a task (the driver) nothing is bound");
    }

    @Test
    void cudaBindsTheAssignedAddress() {
        assertEquals(1, GpuBinding.device(true, false, new String[]{"1"}, "2"));
        assertEquals(0, GpuBinding.device(true, false, new String[]{" 0"}, "1"));
    }

    @Test
    void cudaWithoutAnAssignedGpuFailsNamingTheSettings() {
        String m = assertThrows(IllegalStateException.class, () -> GpuBinding.device(true, false, NONE, "3")).getMessage();
        assertTrue(m.startsWith("executor 3: ND4J's CUDA backend is loaded but Spark assigned this task no GPU"), m);
        assertTrue(m.contains("spark.executor.resource.gpu.amount=1") && m.contains("spark.task.resource.gpu.amount=1")
                && m.contains("conf/spark-gpu.conf"), m);
        // local[*]: tasks share the driver's JVM, Spark assigns no GPUs there, ND4J picks its device.
        assertEquals(-1, GpuBinding.device(true, true, NONE, "driver"));
    }

    @Test
    void gpusOnTheCpuBackendFailNamingTheCudaBuild() {
        String m = assertThrows(IllegalStateException.class,
                () -> GpuBinding.device(false, false, new String[]{"1"}, "2")).getMessage();
        assertTrue(m.contains("Spark assigned GPU 1 to this task but ND4J's CPU backend is loaded") && m.contains("-Pcuda")
                && m.contains("nd4j-cuda"), m);
    }

    @Test
    void oneGpuPerTaskAndIndicesOnly() {
        String m = assertThrows(IllegalStateException.class,
                () -> GpuBinding.device(true, false, new String[]{"0", "1"}, "1")).getMessage();
        assertTrue(m.contains("spark.task.resource.gpu.amount=1"), m);
        m = assertThrows(IllegalStateException.class,
                () -> GpuBinding.device(true, false, new String[]{"GPU-3f2a"}, "1")).getMessage();
        assertTrue(m.contains("not a CUDA device index") && m.contains("discoveryScript"), m);
    }
}
