package io.sparkvision.model.onnx;

import onnx.OnnxMl;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.protobuf.ByteString;
import org.nd4j.shade.protobuf.UnsafeByteOperations;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * An ONNX graph under construction, in ONNX's own generated classes (onnx.OnnxMl, shipped in nd4j-api against
 * ND4J's shaded protobuf): nodes in topological order, float32 initializers, tensor names that stay unique. Every
 * method adds what it says and returns the name of the tensor it produced.
 */
final class OnnxExportGraph {
    private final OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder();
    private final Set<String> names = new HashSet<>();
    private final Map<String, String> renames = new HashMap<>();

    OnnxExportGraph(String name) {
        g.setName(name);
    }

    /** A tensor name not used yet: {@code base}, else base_2, base_3... */
    String fresh(String base) {
        String n = base;
        for (int i = 2; names.contains(n); i++) n = base + "_" + i;
        names.add(n);
        return n;
    }

    /** Adds a node {@code op} reading {@code inputs} and writing one new tensor named after {@code out}. */
    String node(String op, String out, String[] inputs, OnnxMl.AttributeProto... attributes) {
        String o = fresh(out);
        OnnxMl.NodeProto.Builder n = OnnxMl.NodeProto.newBuilder().setOpType(op).setName(o).addOutput(o);
        for (String in : inputs) n.addInput(in);
        for (OnnxMl.AttributeProto a : attributes) n.addAttribute(a);
        g.addNode(n);
        return o;
    }

    String node(String op, String out, String input, OnnxMl.AttributeProto... attributes) {
        return node(op, out, new String[] {input}, attributes);
    }

    /**
     * A float32 initializer holding {@code a} reshaped (in C order) to {@code dims}. The values are copied as
     * little-endian raw data, ONNX's layout for raw_data.
     */
    String weights(String name, INDArray a, long... dims) {
        long n = 1;
        for (long d : dims) n *= d;
        if (n != a.length()) {
            throw new IllegalStateException("initializer " + name + ": " + a.length() + " values for dims " + java.util.Arrays.toString(dims));
        }
        float[] values = a.castTo(DataType.FLOAT).dup('c').data().asFloat();
        return floats(name, values, dims);
    }

    String floats(String name, float[] values, long... dims) {
        String o = fresh(name);
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(o)
                .setDataType(OnnxMl.TensorProto.DataType.FLOAT.getNumber())
                .setRawData(UnsafeByteOperations.unsafeWrap(bytes.array()));
        for (long d : dims) t.addDims(d);
        g.addInitializer(t);
        return o;
    }

    /** A 1-D int64 initializer (shapes, axes). */
    String longs(String name, long... values) {
        String o = fresh(name);
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(o)
                .setDataType(OnnxMl.TensorProto.DataType.INT64.getNumber()).addDims(values.length);
        for (long v : values) t.addInt64Data(v);
        g.addInitializer(t);
        return o;
    }

    /** A float32 scalar initializer (Clip's bounds). */
    String scalar(String name, float value) {
        String o = fresh(name);
        g.addInitializer(OnnxMl.TensorProto.newBuilder().setName(o)
                .setDataType(OnnxMl.TensorProto.DataType.FLOAT.getNumber()).addFloatData(value));
        return o;
    }

    /** Declares a float32 graph input or output; a null dim is the symbolic batch size "N". */
    void input(String name, Long... dims) {
        names.add(name);
        g.addInput(valueInfo(name, dims));
    }

    void output(String tensor, String name, Long... dims) {
        if (!tensor.equals(name)) renames.put(tensor, name);
        g.addOutput(valueInfo(name, dims));
    }

    private static OnnxMl.ValueInfoProto valueInfo(String name, Long... dims) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        for (Long d : dims) {
            OnnxMl.TensorShapeProto.Dimension.Builder dim = OnnxMl.TensorShapeProto.Dimension.newBuilder();
            if (d == null) dim.setDimParam("N");
            else dim.setDimValue(d);
            shape.addDim(dim);
        }
        OnnxMl.TypeProto.Tensor.Builder tensor = OnnxMl.TypeProto.Tensor.newBuilder()
                .setElemType(OnnxMl.TensorProto.DataType.FLOAT.getNumber()).setShape(shape);
        return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder().setTensorType(tensor)).build();
    }

    /** Gives a tensor another name (the graph's outputs "logits" and "probabilities"); applied by {@link #build}. */
    void rename(String tensor, String name) {
        renames.put(tensor, name);
    }

    OnnxMl.GraphProto build() {
        if (!renames.isEmpty()) {
            for (OnnxMl.NodeProto.Builder n : g.getNodeBuilderList()) {
                for (int i = 0; i < n.getInputCount(); i++) n.setInput(i, renames.getOrDefault(n.getInput(i), n.getInput(i)));
                for (int i = 0; i < n.getOutputCount(); i++) n.setOutput(i, renames.getOrDefault(n.getOutput(i), n.getOutput(i)));
            }
        }
        return g.build();
    }

    static OnnxMl.AttributeProto attr(String name, long v) {
        return OnnxMl.AttributeProto.newBuilder().setName(name).setType(OnnxMl.AttributeProto.AttributeType.INT).setI(v).build();
    }

    static OnnxMl.AttributeProto attr(String name, float v) {
        return OnnxMl.AttributeProto.newBuilder().setName(name).setType(OnnxMl.AttributeProto.AttributeType.FLOAT).setF(v).build();
    }

    static OnnxMl.AttributeProto attr(String name, String v) {
        return OnnxMl.AttributeProto.newBuilder().setName(name).setType(OnnxMl.AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFrom(v, StandardCharsets.UTF_8)).build();
    }

    static OnnxMl.AttributeProto ints(String name, long... v) {
        OnnxMl.AttributeProto.Builder a = OnnxMl.AttributeProto.newBuilder().setName(name).setType(OnnxMl.AttributeProto.AttributeType.INTS);
        for (long x : v) a.addInts(x);
        return a.build();
    }
}
