package io.sparkvision.util;

import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * INDArrays through Spark's own KryoSerializer configured as conf/spark-defaults.conf configures it (the product's
 * registrator): every data type, views, f order, scalars and empty arrays come back equal, alone and inside other
 * objects (as parameter averaging's results carry them).
 */
class ArrayKryoSerializerTest {
    private static final ClassTag<Object> ANY = ClassTag$.MODULE$.Any();

    private static SerializerInstance kryo() {
        return new KryoSerializer(new SparkConf().set("spark.kryo.registrator", KryoRegistrator.class.getName())
                .set("spark.kryoserializer.buffer.max", "64m")).newInstance();
    }

    private static Object roundTrip(SerializerInstance k, Object o) {
        ByteBuffer b = k.serialize(o, ANY);
        return k.deserialize(b, ANY);
    }

    @Test
    void everyKindOfArrayComesBackEqual() {
        SerializerInstance k = kryo();
        INDArray base = Nd4j.rand(DataType.FLOAT, 5, 7, 3);
        List<INDArray> arrays = List.of(
                base,
                base.castTo(DataType.DOUBLE), base.castTo(DataType.HALF), base.mul(100).castTo(DataType.INT),
                base.mul(100).castTo(DataType.LONG), base.gt(0.5), base.mul(100).castTo(DataType.BYTE),
                base.get(NDArrayIndex.interval(1, 4), NDArrayIndex.all(), NDArrayIndex.point(1)), // a strided view
                base.dup('f'), base.permute(2, 0, 1),
                Nd4j.scalar(3.5f), Nd4j.empty(DataType.FLOAT), Nd4j.create(DataType.FLOAT, 0, 4),
                Nd4j.rand(DataType.FLOAT, 300_000)); // more than one 1 MB block
        for (INDArray a : arrays) {
            INDArray back = (INDArray) roundTrip(k, a);
            assertEquals(a.dataType(), back.dataType(), a.shapeInfoToString());
            assertArrayEquals(a.shape(), back.shape(), a.shapeInfoToString());
            assertEquals(a, back, a.shapeInfoToString());
        }
    }

    @Test
    void arraysInsideOtherObjects() {
        INDArray params = Nd4j.rand(DataType.FLOAT, 1000), state = Nd4j.rand(DataType.FLOAT, 2000);
        @SuppressWarnings("unchecked")
        Map<String, INDArray> back = (Map<String, INDArray>) roundTrip(kryo(), new java.util.HashMap<>(Map.of("params", params, "state", state)));
        assertEquals(params, back.get("params"));
        assertEquals(state, back.get("state"));
    }
}
