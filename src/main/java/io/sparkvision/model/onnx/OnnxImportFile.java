package io.sparkvision.model.onnx;

import io.sparkvision.io.HadoopFs;
import onnx.Onnx;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.protobuf.CodedInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The parts of an ONNX file the importer reads: its float initializers (the weights, by name) and which operators its
 * graph uses. Parsed with the ONNX protobuf classes that ship inside nd4j-api ({@code onnx.Onnx}, against ND4J's
 * shaded protobuf), so no ONNX library is added.
 */
public final class OnnxImportFile {
    /** ONNX TensorProto.DataType FLOAT. */
    private static final int FLOAT = 1;

    private final String where;
    private final Map<String, Onnx.TensorProto> initializers;
    private final Set<String> operators;
    private final List<Onnx.NodeProto> nodes;
    private final String producer;

    private OnnxImportFile(String where, Onnx.ModelProto model) {
        this.where = where;
        Map<String, Onnx.TensorProto> byName = new LinkedHashMap<>();
        for (Onnx.TensorProto t : model.getGraph().getInitializerList()) byName.put(t.getName(), t);
        this.initializers = Collections.unmodifiableMap(byName);
        Set<String> ops = new TreeSet<>();
        for (Onnx.NodeProto n : model.getGraph().getNodeList()) ops.add(n.getOpType());
        this.operators = Collections.unmodifiableSet(ops);
        this.nodes = model.getGraph().getNodeList();
        this.producer = (model.getProducerName() + " " + model.getProducerVersion()).trim();
    }

    /** Reads an .onnx file from any Hadoop URI (or a local path). */
    public static OnnxImportFile read(Path file, Configuration conf) throws IOException {
        if (!HadoopFs.exists(file, conf)) throw new IllegalArgumentException("ONNX file " + file + " does not exist");
        try (InputStream in = HadoopFs.fs(file, conf).open(file)) {
            CodedInputStream coded = CodedInputStream.newInstance(in);
            coded.setSizeLimit(Integer.MAX_VALUE); // VGG's 0.5 GB are one message
            Onnx.ModelProto model = Onnx.ModelProto.parseFrom(coded);
            if (!model.hasGraph() || model.getGraph().getInitializerCount() == 0) {
                throw new IllegalArgumentException(file + " holds no ONNX graph with weights (no initializers); export the "
                        + "model with torch.onnx.export(..., export_params=True) as docs/onnx-import.md shows");
            }
            return new OnnxImportFile(file.toString(), model);
        } catch (org.nd4j.shade.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalArgumentException(file + " is not an ONNX model file: " + e.getMessage(), e);
        }
    }

    /** Where the file came from, for messages. */
    public String where() {
        return where;
    }

    /** "pytorch 1.13.0" for a torch.onnx.export file; empty when the producer did not say. */
    public String producer() {
        return producer;
    }

    public Set<String> names() {
        return initializers.keySet();
    }

    public boolean has(String name) {
        return initializers.containsKey(name);
    }

    public boolean usesOperator(String opType) {
        return operators.contains(opType);
    }

    /**
     * The initializer holding a tensor's values when the file stores it under another name, else the name itself.
     * torch.onnx.export stores tensors with identical values once and names the others as outputs of Identity nodes
     * (a seeded VGG's zero biases: {@code features.8.bias = Identity(features.6.bias)}).
     */
    public String resolve(String name) {
        if (initializers.containsKey(name)) return name;
        for (Onnx.NodeProto n : nodes) {
            if (n.getOpType().equals("Identity") && n.getOutputCount() == 1 && n.getOutput(0).equals(name)
                    && n.getInputCount() == 1 && initializers.containsKey(n.getInput(0))) {
                return n.getInput(0);
            }
        }
        return name;
    }

    /** The tensor's dimensions, as ONNX stores them (PyTorch's order). */
    public long[] dims(String name) {
        return initializers.get(name).getDimsList().stream().mapToLong(Long::longValue).toArray();
    }

    /** Whether the tensor is float32 (what torch.onnx.export writes for a float model's weights). */
    public boolean isFloat(String name) {
        return initializers.get(name).getDataType() == FLOAT;
    }

    /** The tensor's ONNX data type number, for messages. */
    public int dataType(String name) {
        return initializers.get(name).getDataType();
    }

    /**
     * A float tensor's values as an INDArray of its own shape (c order, as ONNX stores them): from raw_data
     * (little-endian, what torch writes) or from float_data.
     */
    public INDArray floats(String name) {
        Onnx.TensorProto t = initializers.get(name);
        long[] shape = dims(name);
        long n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        float[] values = new float[Math.toIntExact(n)];
        if (!t.getRawData().isEmpty()) {
            ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            if (raw.remaining() != 4L * n) {
                throw new IllegalArgumentException(where + ": tensor " + name + " has " + raw.remaining() + " bytes for "
                        + n + " floats; the file is damaged");
            }
            raw.asFloatBuffer().get(values);
        } else {
            List<Float> data = t.getFloatDataList();
            if (data.size() != n) {
                throw new IllegalArgumentException(where + ": tensor " + name + " has " + data.size() + " values for shape "
                        + Arrays.toString(shape) + "; weights stored outside the file (ONNX external data) are not read: "
                        + "export a model under 2 GB in one file");
            }
            for (int i = 0; i < values.length; i++) values[i] = data.get(i);
        }
        return Nd4j.createFromArray(values).reshape('c', shape.length == 0 ? new long[] {1} : shape);
    }
}
