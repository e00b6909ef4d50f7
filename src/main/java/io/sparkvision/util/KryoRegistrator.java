package io.sparkvision.util;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import org.nd4j.kryo.Nd4jRegistrator;

/**
 * ND4J's Kryo registrations (INDArray, DataSet) plus Java records: Spark's Kryo 4 cannot build a field
 * serializer for a record ("can't get field offset on a record class"), so records travel as Java-serialised.
 */
public class KryoRegistrator extends Nd4jRegistrator {
    @Override
    public void registerClasses(Kryo kryo) {
        super.registerClasses(kryo);
        kryo.addDefaultSerializer(Record.class, new JavaSerializer());
    }
}
