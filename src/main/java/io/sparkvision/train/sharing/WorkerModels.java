package io.sparkvision.train.sharing;

import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.spark.parameterserver.pw.SharedTrainingWrapper;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.parameterserver.distributed.v2.ModelParameterServer;
import org.nd4j.parameterserver.distributed.v2.transport.UpdatesHandler;
import scala.Tuple2;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;

/**
 * Gradient sharing's trained model lives on the executors. DL4J keeps each executor's network inside its
 * {@link SharedTrainingWrapper} singleton for the whole run and never sends its parameters back: the driver's network
 * is only a "silent" mesh node that applies the updates it happens to receive (32 at a time), so it trails the
 * workers (measured: a whole epoch behind, or not moving at all). This brings each executor's actual parameters to
 * the driver after a fit, one task per executor, so that what is evaluated, checkpointed and saved is what trained.
 */
public final class WorkerModels {
    private WorkerModels() {
    }

    /**
     * The executors' parameter vectors after a gradient-sharing fit, by executor id. One executor's parameters per
     * Spark job: a task result reaches the driver's heap as up to four copies (fetched, made contiguous, read, then
     * deserialized), so two vgg16 results at once (512 MiB each) ran a 3 GiB driver out of heap and left the job
     * waiting on the lost result; one at a time halves that peak.
     */
    public static Map<String, INDArray> collect(JavaSparkContext sc, int workers) {
        // Which executors hold a network (each first applies the updates it still queues). One task per executor is
        // what the scheduler does with one free core each; a task that lands on an executor already seen is harmless,
        // and a missing one is asked again.
        Set<String> holders = new TreeSet<>();
        for (int attempt = 0; attempt < 3 && holders.size() < workers; attempt++) {
            for (Tuple2<String, byte[]> t : onEveryExecutor(sc, workers, null)) holders.add(t._1());
        }
        Map<String, INDArray> byExecutor = new LinkedHashMap<>();
        for (String executor : holders) {
            for (int attempt = 0; attempt < 3 && !byExecutor.containsKey(executor); attempt++) {
                for (Tuple2<String, byte[]> t : onEveryExecutor(sc, workers, executor)) byExecutor.putIfAbsent(t._1(), fromBytes(t._2()));
            }
        }
        return byExecutor;
    }

    /** One task per worker; the executor named {@code paramsOf} returns its parameters, the others (or all, if null) their id. */
    private static List<Tuple2<String, byte[]>> onEveryExecutor(JavaSparkContext sc, int workers, String paramsOf) {
        return sc.parallelize(IntStream.range(0, workers).boxed().toList(), workers)
                .mapPartitions(ignored -> localParams(paramsOf).iterator()).collect();
    }

    /** The element-wise mean of the copies (they differ little: every worker applies every shared update). */
    public static INDArray mean(Map<String, INDArray> copies) {
        INDArray sum = null;
        for (INDArray p : copies.values()) sum = sum == null ? p.dup() : sum.addi(p);
        return sum == null ? null : sum.divi(copies.size());
    }

    /**
     * Relative spread of the copies: the largest L2 distance of a copy from their mean over the mean's L2 norm
     * (0 = identical workers).
     */
    public static double spread(Map<String, INDArray> copies, INDArray mean) {
        double norm = mean.norm2Number().doubleValue(), worst = 0;
        for (INDArray p : copies.values()) worst = Math.max(worst, p.distance2(mean));
        return norm == 0 ? 0 : worst / norm;
    }

    /**
     * Makes the driver's network the given parameters. The driver's mesh node first applies the updates it still
     * holds (so none is applied later on top of parameters that already contain it).
     */
    public static void adopt(Model driverNetwork, INDArray params) {
        for (UpdatesHandler h : driverUpdateHandlers()) {
            if (h instanceof org.deeplearning4j.spark.parameterserver.networking.v2.UpdatesConsumer c) c.flush();
        }
        driverNetwork.params().assign(params);
    }

    /**
     * Runs on an executor: nothing if it trained no gradient-sharing network; else its id, with its parameters if it
     * is the executor named {@code paramsOf} (with no bytes if {@code paramsOf} is null, nothing if another).
     */
    private static List<Tuple2<String, byte[]>> localParams(String paramsOf) throws ReflectiveOperationException {
        Field instance = SharedTrainingWrapper.class.getDeclaredField("INSTANCE");
        instance.setAccessible(true);
        Field original = SharedTrainingWrapper.class.getDeclaredField("originalModel");
        original.setAccessible(true);
        Model m = (Model) original.get(instance.get(null));
        if (m == null) return Collections.emptyList();
        KeepSharedUpdates.settle(m); // the others' last updates, received after this worker's last step
        String id = SparkEnv.get().executorId();
        if (paramsOf == null) return List.of(new Tuple2<>(id, new byte[0]));
        return id.equals(paramsOf) ? List.of(new Tuple2<>(id, toBytes(m.params()))) : Collections.emptyList();
    }

    @SuppressWarnings("unchecked")
    private static List<UpdatesHandler> driverUpdateHandlers() {
        try {
            Field f = ModelParameterServer.class.getDeclaredField("updatesSubscribers");
            f.setAccessible(true);
            return new ArrayList<>((List<UpdatesHandler>) f.get(ModelParameterServer.getInstance()));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("DL4J's ModelParameterServer changed: no updatesSubscribers", e);
        }
    }

    private static byte[] toBytes(INDArray a) {
        try {
            return Nd4j.toByteArray(a);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static INDArray fromBytes(byte[] b) {
        return Nd4j.fromByteArray(b);
    }
}
