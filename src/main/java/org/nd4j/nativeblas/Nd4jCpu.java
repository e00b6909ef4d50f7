package org.nd4j.nativeblas;

import java.lang.reflect.Method;

/**
 * Compatibility shim that turns DL4J's oneDNN (MKL-DNN) layer helpers back on.
 *
 * <p>DL4J 1.0.0-M2.x looks up {@code org.nd4j.nativeblas.Nd4jCpu$Environment} by reflection and calls
 * {@code getInstance().isUseMKLDNN()} before it installs a oneDNN helper on a convolution, pooling, batch-norm
 * or LRN layer. ND4J moved that class to {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu} and renamed the
 * flag to {@code isUseONEDNN}, so upstream the lookup fails and the helper is silently dropped: conv training
 * runs 3-4x slower. This class answers at the old name and delegates to the new one. The delegate is reached by
 * reflection so the product still compiles against the CUDA backend (-Pcuda), where it is absent and unused.
 * {@code OneDnnHelpersTest} fails if a dependency bump makes this shim useless.
 */
public final class Nd4jCpu {
    private Nd4jCpu() {
    }

    /** The subset of the old binding's API that DL4J's helper code calls reflectively. */
    public static final class Environment {
        private static final String DELEGATE = "org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment";
        private static final Environment INSTANCE = new Environment();
        private final Object delegate;
        private final Class<?> type;

        private Environment() {
            try {
                type = Class.forName(DELEGATE);
                delegate = type.getMethod("getInstance").invoke(null);
            } catch (ReflectiveOperationException e) {
                // Not the CPU backend: DL4J treats the exception as "no oneDNN" and uses its built-in layers.
                throw new IllegalStateException("ND4J CPU backend not on the classpath", e);
            }
        }

        public static Environment getInstance() {
            return INSTANCE;
        }

        private Object call(String name, Class<?>[] types, Object... args) {
            try {
                Method m = type.getMethod(name, types);
                return m.invoke(delegate, args);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("ND4J's " + DELEGATE + "." + name + " is not callable", e);
            }
        }

        public boolean isUseMKLDNN() {
            return (Boolean) call("isUseONEDNN", new Class<?>[0]);
        }

        public void setUseMKLDNN(boolean use) {
            call("setUseONEDNN", new Class<?>[] {boolean.class}, use);
        }

        public boolean helpersAllowed() {
            return (Boolean) call("helpersAllowed", new Class<?>[0]);
        }

        public void allowHelpers(boolean allow) {
            call("allowHelpers", new Class<?>[] {boolean.class}, allow);
        }
    }
}
