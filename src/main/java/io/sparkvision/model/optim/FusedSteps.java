package io.sparkvision.model.optim;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.TrainingConfig;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.optimize.Solver;
import org.deeplearning4j.optimize.api.ConvexOptimizer;
import org.deeplearning4j.optimize.api.StepFunction;
import org.deeplearning4j.optimize.solvers.BaseOptimizer;
import org.deeplearning4j.optimize.solvers.StochasticGradientDescent;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

/**
 * The optimizer step as one pass over the parameters: each Adam, Nesterov or SGD updater block of a network updates
 * its state and its parameters together ({@link FusedUpdater}, {@link UpdaterKernels}), and the step function
 * subtracts only what the fused blocks did not (BatchNorm's running statistics, other updaters). DL4J M2.1 divides
 * every gradient by the minibatch, runs libnd4j's updater op per block, then subtracts the whole update from the
 * whole parameter vector: three passes over gradient-sized memory where two do (DL4J's division stays its own pass:
 * folded in as well, the gradient arrived divided already by a path of DL4J's not traced, docs/native-path.md).
 *
 * <p>Installed through DL4J's own seams: the step function of the network's SGD optimizer is this class's {@link Step}
 * (a field DL4J sets once), which after a step that ran DL4J's updater puts {@link FusedUpdater} into that
 * updater's Adam, Nesterov and SGD blocks ({@code UpdaterBlock.setGradientUpdater}), as does installing it on a
 * network that has its updater already (restored with its state). So only the first step of a new network (and the
 * first after its updater is replaced) runs DL4J's path, and the network's
 * configuration, updater state layout and {@code model.zip} are DL4J's. A block with regularization or gradient
 * normalization keeps DL4J's updater; under gradient sharing (an accumulator
 * applies the updates) nothing is fused. Needs the JDK's Vector API ({@code --add-modules jdk.incubator.vector},
 * in conf/jvm-flags.properties); without it DL4J's updater runs.
 */
public final class FusedSteps {
    private FusedSteps() {
    }

    /** Whether the Vector API is in this JVM (and ND4J's arrays are host memory): else nothing is fused. */
    public static boolean available() {
        return VECTOR && io.sparkvision.data.Batches.hostWritable();
    }

    private static final boolean VECTOR = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    /** Puts {@link Step} into the network's optimizer (once); true if it is there now. */
    public static boolean install(Model model) {
        if (!available() || !(model instanceof ComputationGraph || model instanceof MultiLayerNetwork)) return false;
        Solver solver = (Solver) get(model instanceof ComputationGraph ? ComputationGraph.class : MultiLayerNetwork.class, "solver", model);
        if (solver == null) return false; // init() creates it; a network without one is not trained
        ConvexOptimizer optimizer = solver.getOptimizer();
        if (!(optimizer instanceof StochasticGradientDescent sgd)) return false;
        StepFunction current = sgd.getStepFunction();
        if (current instanceof Step s) {
            s.fuseIfNew();
            return true;
        }
        Step step = new Step(model, sgd, current);
        set(BaseOptimizer.class, "stepFunction", sgd, step);
        // A network restored with its updater state (a checkpoint, --resume, a parameter-averaging round) has its updater
        // already: fused from its first step, so a resumed run takes the same steps as the run it continues.
        step.fuseIfNew();
        return true;
    }

    /** Puts DL4J's step function and updaters back (A/B runs, tests). */
    public static void uninstall(Model model) {
        Step step = stepOf(model);
        if (step == null) return;
        step.unfuse();
        set(BaseOptimizer.class, "stepFunction", step.optimizer, step.dl4j);
    }

    /** The step of {@code model}'s optimizer if it is this class's, else null; for tests and benchmarks. */
    public static Step stepOf(Model model) {
        Solver solver = (Solver) get(model instanceof ComputationGraph ? ComputationGraph.class : MultiLayerNetwork.class, "solver", model);
        return solver != null && solver.getOptimizer().getStepFunction() instanceof Step s ? s : null;
    }

    /** SGD's step function, skipping the fused blocks' ranges (their updater applied them) and fusing new updaters. */
    public static final class Step implements StepFunction {
        private static final long serialVersionUID = 1L;
        private final transient Model model;
        private final transient BaseOptimizer optimizer;
        private final StepFunction dl4j;
        private transient BaseMultiLayerUpdater<?> fusedFor;
        private transient List<long[]> rest = List.of();
        private transient int fusedBlocks, appliedThisStep;
        private transient long fusedSteps;

        Step(Model model, BaseOptimizer optimizer, StepFunction dl4j) {
            this.model = model;
            this.optimizer = optimizer;
            this.dl4j = dl4j;
        }

        /** Updater blocks whose update includes the parameter step; for tests. */
        public int fusedBlocks() {
            return fusedBlocks;
        }

        /** Steps in which the fused blocks applied their updates; for tests. */
        public long fusedSteps() {
            return fusedSteps;
        }

        boolean direct() {
            return optimizer.getGradientsAccumulator() == null;
        }

        void applied() {
            appliedThisStep++;
        }

        @Override
        public void step(INDArray params, INDArray search, double step) {
            dl4j.step(params, search, step);
        }

        @Override
        public void step(INDArray params, INDArray search) {
            if (appliedThisStep == 0) {
                dl4j.step(params, search);
            } else {
                if (appliedThisStep != fusedBlocks) {
                    throw new IllegalStateException(appliedThisStep + " of " + fusedBlocks + " fused updater blocks ran this step; run with -D"
                            + io.sparkvision.model.onednn.NativePath.OPTIMIZER_PROPERTY + "=false");
                }
                appliedThisStep = 0;
                fusedSteps++;
                INDArray p = params.reshape(params.length()), s = search.reshape(search.length());
                for (long[] r : rest) dl4j.step(p.get(NDArrayIndex.interval(r[0], r[1])), s.get(NDArrayIndex.interval(r[0], r[1])));
            }
            fuseIfNew();
        }

        @Override
        public void step() {
            dl4j.step();
        }

        private void unfuse() {
            if (fusedFor == null) return;
            for (UpdaterBlock b : fusedFor.getUpdaterBlocks()) if (b.getGradientUpdater() instanceof FusedUpdater<?> f) b.setGradientUpdater(f.dl4j());
            fusedFor = null;
            fusedBlocks = 0;
            rest = List.of();
        }

        /** The updater DL4J created (or replaced), if any, gets its blocks fused for the next steps. */
        private void fuseIfNew() {
            if (!direct()) return;
            BaseMultiLayerUpdater<?> u = model instanceof ComputationGraph ? optimizer.getComputationGraphUpdater(false)
                    : (BaseMultiLayerUpdater<?>) optimizer.getUpdater(false);
            if (u == null || u == fusedFor) return;
            INDArray params = model.params().reshape(model.params().length());
            List<long[]> fused = new ArrayList<>();
            for (UpdaterBlock b : u.getUpdaterBlocks()) {
                if (b.isPretrainUpdaterBlock() || !plain(b)) continue;
                long from = b.getParamOffsetStart(), to = b.getParamOffsetEnd();
                INDArray gradView = b.getGradientView().reshape(b.getGradientView().length());
                FusedUpdater<?> f = FusedUpdater.of(b.getGradientUpdater(), this, params.get(NDArrayIndex.interval(from, to)), gradView);
                if (f == null) continue; // another updater (NoOp: BatchNorm's running statistics, AdaGrad, ...)
                b.setGradientUpdater(f);
                fused.add(new long[] {from, to});
            }
            rest = complement(fused, params.length());
            fusedBlocks = fused.size();
            fusedFor = u;
        }
    }

    /** No regularization, no gradient normalization: DL4J's update is the updater's alone (its division stays DL4J's). */
    private static boolean plain(UpdaterBlock b) {
        for (UpdaterBlock.ParamState ps : b.getLayersAndVariablesInBlock()) {
            TrainingConfig c = ps.getLayer().getConfig();
            var reg = c.getRegularizationByParam(ps.getParamName());
            if (reg != null && !reg.isEmpty()) return false;
            if (c.getGradientNormalization() != null && c.getGradientNormalization() != GradientNormalization.None) return false;
        }
        return true;
    }

    /** [0, n) without the given disjoint ranges. */
    static List<long[]> complement(List<long[]> ranges, long n) {
        List<long[]> out = new ArrayList<>();
        long at = 0;
        for (long[] r : ranges.stream().sorted((a, b) -> Long.compare(a[0], b[0])).toList()) {
            if (r[0] > at) out.add(new long[] {at, r[0]});
            at = Math.max(at, r[1]);
        }
        if (at < n) out.add(new long[] {at, n});
        return out;
    }

    private static Object get(Class<?> type, String field, Object from) {
        try {
            Field f = type.getDeclaredField(field);
            f.setAccessible(true);
            return f.get(from);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("DL4J's " + type.getSimpleName() + "." + field + " is gone; run with -D"
                    + io.sparkvision.model.onednn.NativePath.OPTIMIZER_PROPERTY + "=false", e);
        }
    }

    private static void set(Class<?> type, String field, Object to, Object value) {
        try {
            Field f = type.getDeclaredField(field);
            f.setAccessible(true);
            f.set(to, value);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("DL4J's " + type.getSimpleName() + "." + field + " is gone; run with -D"
                    + io.sparkvision.model.onednn.NativePath.OPTIMIZER_PROPERTY + "=false", e);
        }
    }
}
