package io.sparkvision.util;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import org.bytedeco.javacpp.BytePointer;
import org.nd4j.kryo.Nd4jSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * INDArrays over Kryo as their raw bytes, copied in 1 MB blocks: ND4J's own serializer writes and reads through a
 * DataOutputStream/DataInputStream, about 320 ms out and 270 ms in for parameter averaging's 134 MB per worker and
 * round (ResNet-18 with Adam's state; measured in docs/native-path.md), five such transfers a round. Numeric arrays
 * only; strings and compressed arrays go through ND4J's serializer, empty ones as their type and shape (ND4J's
 * serializer's read of an empty array ended in an EOFException here). Both sides must share a byte order
 * (every platform ND4J ships for is little-endian); a mismatch is refused, not misread.
 */
public final class ArrayKryoSerializer extends Serializer<INDArray> {
    private static final byte ND4J = 0, RAW = 1, EMPTY = 2;
    private static final int BLOCK = 1 << 20;
    private final Nd4jSerializer nd4j = new Nd4jSerializer();

    @Override
    public void write(Kryo kryo, Output out, INDArray array) {
        if (array.isEmpty() && !array.isCompressed()) { // ND4J's serializer cannot read these back (EOFException)
            out.writeByte(EMPTY);
            out.writeString(array.dataType().name());
            writeShape(out, array.shape());
            return;
        }
        if (!raw(array)) {
            out.writeByte(ND4J);
            nd4j.write(kryo, out, array);
            return;
        }
        INDArray a = dense(array) ? array : array.dup('c');
        out.writeByte(RAW);
        out.writeBoolean(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN);
        out.writeString(a.dataType().name());
        writeShape(out, a.shape());
        ByteBuffer bytes = buffer(a);
        byte[] block = new byte[(int) Math.min(BLOCK, bytes.remaining())];
        while (bytes.hasRemaining()) {
            int n = Math.min(block.length, bytes.remaining());
            bytes.get(block, 0, n);
            out.writeBytes(block, 0, n);
        }
    }

    @Override
    public INDArray read(Kryo kryo, Input in, Class<INDArray> type) {
        byte kind = in.readByte();
        if (kind == ND4J) return nd4j.read(kryo, in, type);
        if (kind == EMPTY) {
            DataType dt = DataType.valueOf(in.readString());
            long[] shape = readShape(in);
            return shape.length == 0 ? Nd4j.empty(dt) : Nd4j.create(dt, shape);
        }
        boolean little = in.readBoolean();
        if (little != (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN)) {
            throw new IllegalStateException("an INDArray written on a " + (little ? "little" : "big") + "-endian JVM cannot be read on this "
                    + ByteOrder.nativeOrder() + " one; run the driver and executors on one kind of machine");
        }
        DataType dt = DataType.valueOf(in.readString());
        INDArray a = Nd4j.createUninitializedDetached(dt, readShape(in));
        ByteBuffer bytes = buffer(a);
        byte[] block = new byte[(int) Math.min(BLOCK, bytes.remaining())];
        while (bytes.hasRemaining()) {
            int n = Math.min(block.length, bytes.remaining());
            in.readBytes(block, 0, n);
            bytes.put(block, 0, n);
        }
        return a;
    }

    private static void writeShape(Output out, long[] shape) {
        out.writeInt(shape.length, true);
        for (long d : shape) out.writeLong(d, true);
    }

    private static long[] readShape(Input in) {
        long[] shape = new long[in.readInt(true)];
        for (int i = 0; i < shape.length; i++) shape[i] = in.readLong(true);
        return shape;
    }

    /** Arrays this serializer copies as bytes: numeric, with at least one element. */
    private static boolean raw(INDArray a) {
        DataType dt = a.dataType();
        return !a.isEmpty() && !a.isCompressed() && dt != DataType.UTF8 && dt != DataType.COMPRESSED && dt != DataType.UNKNOWN;
    }

    /** C order, default strides, its own whole buffer from the start: the bytes are the array. */
    private static boolean dense(INDArray a) {
        return a.ordering() == 'c' && a.offset() == 0 && a.data().length() == a.length() && Shape.hasDefaultStridesForShape(a);
    }

    private static ByteBuffer buffer(INDArray a) {
        long bytes = a.length() * a.dataType().width();
        return new BytePointer(a.data().addressPointer()).position(0).capacity(bytes).limit(bytes).asByteBuffer();
    }
}
