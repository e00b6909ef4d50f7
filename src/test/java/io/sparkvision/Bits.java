package io.sparkvision;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Bit-for-bit comparison of arrays. {@code INDArray.equals} compares within 1e-5 (ND4J's default epsilon): a
 * parameter that drifted by 1e-6 would pass it, so it cannot prove "bit-identical".
 */
public final class Bits {
    private Bits() {
    }

    public static void assertIdentical(INDArray expected, INDArray actual, String what) {
        assertEquals(expected.dataType(), actual.dataType(), what + ": data type");
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        long[] a = rawBits(expected), b = rawBits(actual);
        if (Arrays.equals(a, b)) return;
        int i = Arrays.mismatch(a, b);
        fail(what + ": not bit-identical; first difference at flat index " + i + ": " + expected.ravel().getDouble(i)
                + " vs " + actual.ravel().getDouble(i) + " (" + count(a, b) + " of " + a.length + " values differ)");
    }

    /** Each value's raw IEEE bits, in C order (views and strides resolved by ravel). */
    static long[] rawBits(INDArray x) {
        INDArray flat = x.ravel();
        long[] bits = new long[(int) flat.length()];
        if (x.dataType() == DataType.DOUBLE) {
            double[] v = flat.toDoubleVector();
            for (int i = 0; i < v.length; i++) bits[i] = Double.doubleToRawLongBits(v[i]);
        } else if (x.dataType() == DataType.FLOAT) {
            float[] v = flat.toFloatVector();
            for (int i = 0; i < v.length; i++) bits[i] = Float.floatToRawIntBits(v[i]);
        } else {
            throw new IllegalArgumentException("bit comparison of " + x.dataType() + " arrays is not implemented");
        }
        return bits;
    }

    private static int count(long[] a, long[] b) {
        int n = 0;
        for (int i = 0; i < a.length; i++) if (a[i] != b[i]) n++;
        return n;
    }
}
