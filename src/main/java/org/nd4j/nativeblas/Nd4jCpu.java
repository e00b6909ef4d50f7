package org.nd4j.nativeblas;

/**
 * Compatibility shim that turns DL4J's oneDNN (MKL-DNN) layer helpers back on.
 *
 * <p>DL4J 1.0.0-M2.x looks up {@code org.nd4j.nativeblas.Nd4jCpu$Environment} by reflection and calls
 * {@code getInstance().isUseMKLDNN()} before it installs a oneDNN helper on a convolution, pooling, batch-norm
 * or LRN layer. ND4J moved that class to {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu} and renamed the
 * flag to {@code isUseONEDNN}, so upstream the lookup fails and the helper is silently dropped: conv training
 * runs 3-4x slower. This class answers at the old name and delegates to the new one. It is the product's
 * only class in a foreign package; {@code OneDnnHelpersTest} fails if a dependency bump makes it useless.
 */
public final class Nd4jCpu {
    private Nd4jCpu() {
    }

    /** The subset of the old binding's API that DL4J's helper code calls reflectively. */
    public static final class Environment {
        private static final Environment INSTANCE = new Environment();

        private Environment() {
        }

        public static Environment getInstance() {
            return INSTANCE;
        }

        private static org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu.Environment delegate() {
            return org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu.Environment.getInstance();
        }

        public boolean isUseMKLDNN() {
            return delegate().isUseONEDNN();
        }

        public void setUseMKLDNN(boolean use) {
            delegate().setUseONEDNN(use);
        }

        public boolean helpersAllowed() {
            return delegate().helpersAllowed();
        }

        public void allowHelpers(boolean allow) {
            delegate().allowHelpers(allow);
        }
    }
}
