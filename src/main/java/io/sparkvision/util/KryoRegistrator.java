package io.sparkvision.util;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import org.nd4j.kryo.Nd4jRegistrator;

import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;

/**
 * ND4J's Kryo registrations (DataSet and the rest; INDArray itself with {@link ArrayKryoSerializer}) plus Java records. Spark's Kryo 4 cannot build a field serializer
 * for a record ("can't get field offset on a record class"), and Kryo's JavaSerializer resolves classes with the
 * JVM's class loader, which on a real cluster cannot see the application jar. Records are therefore written
 * component by component and rebuilt through their canonical constructor, with Kryo's own class resolution.
 */
public class KryoRegistrator extends Nd4jRegistrator {
    @Override
    public void registerClasses(Kryo kryo) {
        super.registerClasses(kryo);
        // INDArrays as raw bytes (ND4J's serializer streams them value by value; see ArrayKryoSerializer)
        kryo.register(org.nd4j.linalg.factory.Nd4j.getBackend().getNDArrayClass(), new ArrayKryoSerializer());
        kryo.addDefaultSerializer(Record.class, RecordSerializer.class);
    }

    /** Serialises any record by its components. */
    public static final class RecordSerializer extends Serializer<Record> {
        private final RecordComponent[] components;
        private final Constructor<?> constructor;

        public RecordSerializer(Kryo kryo, Class<?> type) {
            this.components = type.getRecordComponents();
            Class<?>[] types = new Class<?>[components.length];
            for (int i = 0; i < components.length; i++) types[i] = components[i].getType();
            try {
                this.constructor = type.getDeclaredConstructor(types);
                this.constructor.setAccessible(true);
                for (RecordComponent c : components) c.getAccessor().setAccessible(true);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("record " + type.getName() + " has no canonical constructor", e);
            }
        }

        @Override
        public void write(Kryo kryo, Output output, Record record) {
            try {
                for (RecordComponent c : components) kryo.writeClassAndObject(output, mutableCopy(c.getAccessor().invoke(record)));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }

        /**
         * JDK immutable collections (List.of, Stream.toList, Map.of) cannot be rebuilt by Kryo, which creates an empty
         * instance and adds to it: they travel as their mutable equivalents.
         */
        static Object mutableCopy(Object v) {
            if (v == null || v.getClass().getName().startsWith("java.util.") && !v.getClass().getName().contains("Immutable")
                    && !v.getClass().getName().contains("$")) {
                return v;
            }
            if (v instanceof java.util.List<?> l) return new java.util.ArrayList<>(l);
            if (v instanceof java.util.Set<?> set) return new java.util.LinkedHashSet<>(set);
            if (v instanceof java.util.Map<?, ?> m) return new java.util.LinkedHashMap<>(m);
            return v;
        }

        @Override
        public Record read(Kryo kryo, Input input, Class<Record> type) {
            Object[] values = new Object[components.length];
            for (int i = 0; i < values.length; i++) values[i] = kryo.readClassAndObject(input);
            try {
                return (Record) constructor.newInstance(values);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot rebuild " + type.getName(), e);
            }
        }
    }
}
