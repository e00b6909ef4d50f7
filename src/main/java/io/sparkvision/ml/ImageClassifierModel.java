package io.sparkvision.ml;

import io.sparkvision.io.HadoopFs;
import io.sparkvision.io.SerializableHadoopConf;
import io.sparkvision.model.ModelFiles;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * A model the train job wrote, as a Spark ML {@link Transformer}: {@code transform(df)} adds the top-k class ids,
 * names and probabilities of the images in {@code inputCol} (their bytes, as {@code spark.read.format("binaryFile")}
 * gives them in {@code content}, or their paths on any Hadoop URI), prepared as the score job prepares them (the
 * model.json contract). Rows that cannot be scored (not an image, larger than the score job's limits, unreadable)
 * get an {@code error} and null predictions; the job goes on. Executors restore the network once per concurrently
 * running task and reuse it across tasks and transforms ({@link io.sparkvision.score.ModelPool}), and score
 * minibatches of {@code batchSize} rows.
 *
 * <p>Saved with Spark ML persistence ({@code model.write().save(dir)}, or inside a {@code PipelineModel}), it copies
 * the model.zip and model.json into {@code dir/data/}, so a saved pipeline keeps scoring with the model it was saved
 * with even after the original is replaced.
 */
public final class ImageClassifierModel extends Transformer implements MLWritable {
    private static final long serialVersionUID = 1L;
    /** Where a saved transformer keeps its copy of the model (beside Spark ML's metadata/). */
    static final String DATA = "data", ZIP = "model.zip";

    private final String uid;
    private final Param<String> modelUri;
    private final Param<String> inputCol;
    private final Param<String> outputPrefix;
    private final IntParam topK;
    private final IntParam batchSize;

    public ImageClassifierModel() {
        this(Identifiable$.MODULE$.randomUID("sparkvisionImageClassifier"));
    }

    /** Spark ML's copy and persistence construct with the uid. */
    public ImageClassifierModel(String uid) {
        this.uid = uid;
        modelUri = new Param<>(this, "modelUri", "the model.zip a sparkvision train job wrote (any Hadoop URI), "
                + "with its model.json beside it; or a model registry directory (its current model)");
        inputCol = new Param<>(this, "inputCol", "the column with the images: bytes (binary, as binaryFile's content) "
                + "or paths (string, any Hadoop URI)");
        outputPrefix = new Param<>(this, "outputPrefix", "put before the added columns' names: top_k_ids, top_k_names, "
                + "top_k_probs, error");
        topK = new IntParam(this, "topK", "classes reported per image, most probable first (at most the model's classes)",
                ParamValidators.gtEq(1));
        batchSize = new IntParam(this, "batchSize", "images per forward pass on an executor", ParamValidators.gtEq(1));
        setDefault(inputCol, "content");
        setDefault(outputPrefix, "");
        setDefault(topK, 5);
        setDefault(batchSize, 64);
    }

    /**
     * The model at {@code modelUri}, read and checked now (an early error for a wrong path or a zip without
     * model.json), with the other params at their defaults. Needs an active SparkSession.
     */
    public static ImageClassifierModel fromModel(String modelUri) {
        ImageClassifierModel m = new ImageClassifierModel().setModelUri(modelUri);
        ShippedModel.of(org.apache.spark.sql.SparkSession.active(), modelUri);
        return m;
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> modelUri() {
        return modelUri;
    }

    public Param<String> inputCol() {
        return inputCol;
    }

    public Param<String> outputPrefix() {
        return outputPrefix;
    }

    public IntParam topK() {
        return topK;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public String getModelUri() {
        return isDefined(modelUri) ? getOrDefault(modelUri) : null;
    }

    public String getInputCol() {
        return getOrDefault(inputCol);
    }

    public String getOutputPrefix() {
        return getOrDefault(outputPrefix);
    }

    public int getTopK() {
        return (Integer) getOrDefault(topK);
    }

    public int getBatchSize() {
        return (Integer) getOrDefault(batchSize);
    }

    public ImageClassifierModel setModelUri(String value) {
        set(modelUri, value);
        return this;
    }

    public ImageClassifierModel setInputCol(String value) {
        set(inputCol, value);
        return this;
    }

    public ImageClassifierModel setOutputPrefix(String value) {
        set(outputPrefix, value);
        return this;
    }

    public ImageClassifierModel setTopK(int value) {
        set(topK, value);
        return this;
    }

    public ImageClassifierModel setBatchSize(int value) {
        set(batchSize, value);
        return this;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        String in = getInputCol();
        if (!Arrays.asList(schema.fieldNames()).contains(in)) {
            throw new IllegalArgumentException("input column '" + in + "' is not in the DataFrame (columns: "
                    + String.join(", ", schema.fieldNames()) + "); set inputCol to the column with image bytes "
                    + "(binaryFile's content) or image paths");
        }
        DataType type = schema.apply(in).dataType();
        if (!type.equals(DataTypes.BinaryType) && !type.equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("input column '" + in + "' is " + type.simpleString()
                    + "; it must hold image bytes (binary) or image paths (string)");
        }
        StructType out = schema;
        for (StructField f : Predictions.fields(getOutputPrefix())) {
            if (Arrays.asList(schema.fieldNames()).contains(f.name())) {
                throw new IllegalArgumentException("the DataFrame already has a column '" + f.name()
                        + "'; set outputPrefix so the added columns get other names");
            }
            out = out.add(f);
        }
        return out;
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema());
        ShippedModel model = ShippedModel.of(dataset.sparkSession(), getModelUri());
        int column = dataset.schema().fieldIndex(getInputCol());
        boolean paths = dataset.schema().apply(getInputCol()).dataType().equals(DataTypes.StringType);
        PartitionScorer scorer = new PartitionScorer(model, model.predictor(getTopK()),
                new SerializableHadoopConf(dataset.sparkSession().sparkContext().hadoopConfiguration()), column, paths, getBatchSize());
        return dataset.toDF().mapPartitions((MapPartitionsFunction<Row, Row>) scorer, Encoders.row(out));
    }

    @Override
    public ImageClassifierModel copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    @Override
    public MLWriter write() {
        return new Writer(this);
    }

    /** Spark ML persistence: what {@code PipelineModel.load} calls for this stage. */
    public static MLReader<ImageClassifierModel> read() {
        return new Reader();
    }

    /** A transformer saved with {@code write().save(path)}. To score with a train job's model.zip use {@link #fromModel}. */
    public static ImageClassifierModel load(String path) {
        return read().load(path);
    }

    /** Spark ML's metadata (the params, as DefaultParamsWritable writes them), then a copy of model.zip and model.json. */
    private static final class Writer extends MLWriter {
        private final ImageClassifierModel instance;

        Writer(ImageClassifierModel instance) {
            this.instance = instance;
        }

        @Override
        public void saveImpl(String path) {
            if (instance.getModelUri() == null) throw new IllegalArgumentException("cannot save: modelUri is not set");
            DefaultParamsWriter.saveMetadata(instance, path, sc(), Option.empty(), Option.empty());
            Configuration conf = sc().hadoopConfiguration();
            try {
                Path zip = ModelFiles.resolve(HadoopFs.path(instance.getModelUri()), conf);
                Path data = new Path(HadoopFs.path(path), DATA);
                copy(zip, new Path(data, ZIP), conf);
                copy(ModelFiles.metadataPath(zip), ModelFiles.metadataPath(new Path(data, ZIP)), conf);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot save " + instance.uid() + " to " + path + ": " + e.getMessage(), e);
            }
        }

        private static void copy(Path from, Path to, Configuration conf) throws IOException {
            if (!HadoopFs.exists(from, conf)) throw new IllegalArgumentException("cannot save: " + from + " does not exist");
            FileUtil.copy(HadoopFs.fs(from, conf), from, HadoopFs.fs(to, conf), to, false, true, conf);
        }
    }

    private static final class Reader extends MLReader<ImageClassifierModel> {
        @Override
        public ImageClassifierModel load(String path) {
            DefaultParamsReader.Metadata meta = DefaultParamsReader.loadMetadata(path, sc(), ImageClassifierModel.class.getName());
            ImageClassifierModel model = new ImageClassifierModel(meta.uid());
            meta.getAndSetParams(model, Option.empty());
            // The copy saved with it, not the original (which may have been replaced since).
            return model.setModelUri(new Path(new Path(HadoopFs.path(path), DATA), ZIP).toString());
        }
    }
}
